"""Write the published schema: `python -m api.graphql.sdl` regenerates `schema.graphql`."""

from __future__ import annotations

from pathlib import Path

from api.graphql.schema import schema

SDL = Path(__file__).with_name("schema.graphql")


def sdl() -> str:
    return schema.as_str() + "\n"


if __name__ == "__main__":
    SDL.write_text(sdl(), encoding="utf-8")
    print(f"wrote {SDL}")
