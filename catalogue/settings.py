"""Node settings: the only reader of the environment (prefix `CATALOGUE_`)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from catalogue.errors import ConfigurationError, ErrorDetail

SearchBackendName = Literal["embedded", "elasticsearch"]


class Settings(BaseSettings):
    """Everything a node is configured with. Each field is documented in the README's table."""

    model_config = SettingsConfigDict(
        env_prefix="CATALOGUE_", extra="forbid", validate_default=True, frozen=True
    )

    data_dir: Path = Field(
        Path("var"),
        description="Directory holding the SQLite database, the embedded index and logs.",
    )
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the catalogue store, e.g. "
        "`postgresql://user:pass@host/db`. Default: SQLite (WAL) at `<data_dir>/catalogue.db`.",
    )
    sources_file: Path | None = Field(
        None, description="YAML file listing the sources to harvest (`sources:` list)."
    )
    base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8000"),
        description="Public URL of this node; record IRIs are minted under it and never change.",
    )
    node_name: str = Field(
        "Imaging catalogue",
        description="Human-readable name of this node, shown in the API and UI.",
    )
    site_slug: str = Field(
        "local",
        pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
        description="Short identifier of the site this node harvests for.",
    )
    search_backend: SearchBackendName = Field(
        "embedded",
        description="`embedded` (SQLite FTS, no service) or `elasticsearch` (Elasticsearch 8).",
    )
    elasticsearch_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:9200"),
        description="Elasticsearch URL (backend `elasticsearch`).",
    )
    elasticsearch_api_key: SecretStr | None = Field(
        None, description="API key for Elasticsearch, if the cluster requires one."
    )
    elasticsearch_index_prefix: str = Field(
        "catalogue",
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Prefix of the index names and aliases this node owns.",
    )
    index_interval_s: float = Field(
        2.0,
        gt=0,
        description="How often a serving node drains the outbox into the search index (seconds); "
        "it backs off while the engine is down.",
    )
    host: str = Field("127.0.0.1", description="Address `catalogue serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `catalogue serve` listens on.")
    graphiql: bool = Field(
        True,
        description="Serve the GraphiQL explorer at `/graphql` (it needs introspection).",
    )
    graphql_introspection: bool = Field(
        True, description="Answer GraphQL introspection queries (the schema is public as SDL)."
    )
    graphql_max_depth: int = Field(
        12, ge=1, description="Deepest field nesting a GraphQL query may have."
    )
    graphql_max_cost: int = Field(
        100_000,
        ge=1,
        description="Most values a GraphQL query may ask for: each field counts once per item "
        "of the pages above it (`first`, default 20).",
    )
    graphql_persisted_queries: Path | None = Field(
        None,
        description="Directory of `*.graphql` documents: when set, only these run (sent as text "
        "or by SHA-256 in `extensions.persistedQuery.sha256Hash`).",
    )
    suppression_threshold: int = Field(
        5,
        ge=1,
        description="Aggregate counts below this are suppressed for users without record access.",
    )
    pseudonym_secret: SecretStr | None = Field(
        None,
        description="Per-site secret keying patient pseudonyms (HMAC); never leaves the site. "
        "Default: a random key created once in `<data_dir>/pseudonym.key`.",
    )
    harvest_delete_after_runs: int = Field(
        2,
        ge=1,
        description="A record is soft-deleted after this many consecutive complete harvest runs "
        "no longer saw it.",
    )
    harvest_delete_failsafe_ratio: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="A complete run that saw fewer records than this fraction of the last one "
        "deletes nothing (a half-mounted export must not empty the catalogue).",
    )
    doi_provider: Literal["local", "datacite"] = Field(
        "local",
        description="Who registers dataset DOIs: `datacite` (its REST API) or `local` (demo DOIs "
        "under `CATALOGUE_DOI_PREFIX`, registered nowhere and marked so).",
    )
    doi_prefix: str = Field(
        "10.5072",
        pattern=r"^10\.\d{4,9}$",
        description="DOI prefix of new datasets: the DataCite repository's prefix, or a test "
        "prefix for local DOIs.",
    )
    datacite_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://api.test.datacite.org"),
        description="DataCite REST API: `https://api.test.datacite.org` (test) or "
        "`https://api.datacite.org` (production).",
    )
    datacite_repository_id: str | None = Field(
        None, description="DataCite repository id (e.g. `ORG.REPO`), used with the password."
    )
    datacite_password: SecretStr | None = Field(None, description="DataCite repository password.")
    demo_orthanc_url: str | None = Field(
        None,
        description="Orthanc (REST API root, with the DICOMweb plugin) that `catalogue demo` loads "
        "its east site into and harvests over DICOMweb; unset or unreachable: a DICOM folder.",
    )
    ontology_files: list[Path] = Field(
        [],
        description="Ontology files (OWL, RDF/XML, Turtle, N-Triples, JSON-LD, SKOS, OBO; `.gz` "
        "read through) whose terms join the bundled vocabularies; a JSON list in the environment.",
    )
    ontology_mapping_tables: list[Path] = Field(
        [], description="SSSOM/TSV mapping tables the mapper consults (JSON list)."
    )
    ontology_rules: list[Path] = Field(
        [], description="Mapping rule files (JSON: ordered regexes over fields) (JSON list)."
    )
    curation_review_below: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="Mappings less sure than this wait in the curation queue with the unmapped.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of the node."
    )
    auth_issuer: str | None = Field(
        None, description="Expected `iss` of bearer tokens (JWT); unset: the issuer is not checked."
    )
    auth_audience: str | None = Field(
        None, description="Expected `aud` of bearer tokens; unset: tokens carrying one are refused."
    )
    auth_jwks_file: Path | None = Field(
        None, description="JWKS file holding the issuer's public keys (bearer tokens)."
    )
    auth_jwks_url: AnyHttpUrl | None = Field(
        None, description="JWKS URL of the issuer (fetched, cached five minutes)."
    )
    auth_hs256_secret: SecretStr | None = Field(
        None,
        description="Shared HS256 secret for bearer tokens (32 bytes or more), when the issuer "
        "has no key pair. One of the JWKS file, JWKS URL or secret enables bearer tokens.",
    )
    auth_leeway_seconds: int = Field(
        30, ge=0, le=300, description="Clock skew tolerated on `exp`, `nbf` and `iat`."
    )
    auth_max_token_lifetime_seconds: int = Field(
        86_400,
        ge=60,
        description="Bearer tokens living longer than this (`exp - iat`) are refused.",
    )
    auth_roles_claim: str = Field(
        "roles",
        description="Token claim listing roles: `admin`, `researcher`, `curator:<site-slug>`.",
    )
    auth_groups_claim: str = Field(
        "groups", description="Token claim listing the groups grants can be made to."
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect issuer for browser sign-in (authorization code with PKCE); "
        "unset: no sign-in with an issuer, tokens and API keys only.",
    )
    oidc_client_id: str | None = Field(None, description="This node's client id at the issuer.")
    oidc_client_secret: SecretStr | None = Field(
        None, description="This node's client secret; unset: a public client (PKCE only)."
    )
    oidc_scopes: str = Field(
        "openid", description="Scopes asked of the issuer (space-separated, with `openid`)."
    )
    oidc_groups_claim: str = Field(
        "groups", description="ID-token claim listing the groups grants can be made to."
    )
    oidc_roles_claim: str = Field(
        "roles", description="ID-token claim listing roles: `admin`, `curator:<site-slug>`."
    )
    oidc_group_roles: dict[str, str] = Field(
        default_factory=dict,
        description="Roles for members of issuer groups (JSON object, e.g. "
        '`{"catalogue-admins": "admin", "site-a-curation": "curator:site-a"}`).',
    )
    oidc_display_name: str | None = Field(
        None, description='Shown as "Sign in with <name>"; unset: the issuer\'s host name.'
    )
    oidc_redirect_base_url: AnyHttpUrl | None = Field(
        None,
        description="Public URL the issuer sends browsers back to (`<url>/auth/callback`); "
        "unset: the base URL.",
    )
    oidc_session_seconds: int = Field(
        3600, ge=60, le=86_400, description="Lifetime of the node token a sign-in hands out."
    )
    session_secret: SecretStr | None = Field(
        None,
        description="Key signing the node's sign-in tokens (32 bytes or more); unset: a random "
        "key kept in the data directory.",
    )
    api_key_max_days: int = Field(
        365, ge=1, description="Longest lifetime of an API key for a platform client (days)."
    )
    rate_limit_per_minute: int = Field(
        600,
        ge=0,
        description="Requests per minute per identity (per address when anonymous); 0: no limit.",
    )
    rate_limit_burst: int = Field(
        60, ge=1, description="Requests an identity may make at once before the rate applies."
    )
    max_request_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (bytes)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Origins browsers may call the API from (JSON list; `["*"]` for any).',
    )
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at `/metrics`.")
    ready_max_index_lag_seconds: float = Field(
        300.0,
        gt=0,
        description="`/ready` fails when the oldest outbox entry waiting for the index is older.",
    )
    log_json: bool = Field(
        False, description="Write logs as JSON lines (with trace ids) instead of plain text."
    )
    otel_enabled: bool = Field(
        False,
        description="Export OpenTelemetry traces over OTLP/HTTP (needs the `telemetry` extra).",
    )
    otel_endpoint: AnyHttpUrl | None = Field(
        None, description="OTLP/HTTP traces endpoint; unset: the exporter's standard default."
    )
    otel_service_name: str = Field(
        "imaging-catalogue", description="`service.name` of the exported traces."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @property
    def store_url(self) -> str:
        """The store URL, defaulting to SQLite under the data directory."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'catalogue.db'}"

    def pseudonym_key(self) -> SecretStr:
        """The pseudonym secret; without one, a random key kept in the data directory.

        Losing that file breaks the link between a subject's old and new records, so it is
        created once (mode 0600) and never rewritten.
        """
        if self.pseudonym_secret is not None:
            return self.pseudonym_secret
        return _kept_key(self.data_dir / "pseudonym.key")

    def session_key(self) -> SecretStr:
        """The key signing sign-in tokens; without one, a random key kept in the data directory
        (losing it only signs everybody out)."""
        if self.session_secret is not None:
            return self.session_secret
        return _kept_key(self.data_dir / "session.key")

    @property
    def base_iri(self) -> str:
        return str(self.base_url).rstrip("/")

    def redacted(self) -> dict[str, Any]:
        """Settings as shown to people: secrets hidden, including passwords inside URLs."""
        shown = self.model_dump(mode="json")
        for name, value in list(shown.items()):
            if isinstance(getattr(self, name), SecretStr):
                shown[name] = "**********" if value else None
        if self.database_url is not None:
            shown["database_url"] = redact_url(self.store_url)
        return shown


def _kept_key(path: Path) -> SecretStr:
    """A random key created once at `path` (mode 0600) and never rewritten."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as key:
                key.write(secrets.token_urlsafe(32))
    return SecretStr(path.read_text().strip())


def redact_url(url: str) -> str:
    """Hide the password of a URL (`scheme://user:***@host/...`)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "**********"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment plus explicit overrides, with a clear error."""
    from pydantic import ValidationError as PydanticValidationError

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except PydanticValidationError as exc:
        details = [
            ErrorDetail(
                location="CATALOGUE_" + "_".join(str(p) for p in err["loc"]).upper(),
                message=err["msg"],
            )
            for err in exc.errors()
        ]
        raise ConfigurationError("invalid settings", details) from None


def settings_table() -> str:
    """The README's configuration table, generated from the fields above."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `CATALOGUE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)
