// The GraphQL documents the cohort builder sends.

const COUNT = "value suppressed threshold atLeast display";
// The cost estimate takes `sites`, `subjects`, `studies` and `series` for pages of 20 wherever
// they appear, so nested counts ask only for what is shown.
const SHORT = "suppressed threshold atLeast display";

export const FIELDS = "{ searchFields { name level type multi description } }";

export const COHORT = `query Cohort($query: CohortInput!) {
  cohort(query: $query) {
    threshold engine partial
    subjects { ${COUNT} } studies { ${COUNT} } series { ${COUNT} }
    sites { slug name subjects { ${SHORT} } studies { ${SHORT} } series { ${SHORT} }
            collections { id title subjects { ${SHORT} } series { ${SHORT} } } }
    siteStatus { slug origin asOf reason }
    facets { field type buckets { value low high count { ${COUNT} } } other { ${COUNT} } missing { ${COUNT} } }
  }
}`;

const SERIES_FIELDS = `id iri modality bodyPart seriesDescription manufacturer fieldStrengthT year
  annotations instanceCount accessUrl`;

export const SUBJECTS = `query Subjects($query: SearchInput!, $after: String) {
  search(query: $query, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { id siteSlug node { ... on Subject {
      id iri sex birthYear group
      coded { field originalValue label }
      collection { title accessUrl }
      studies(first: 5) { totalCount edges { node {
        id year ageYears description accessUrl
        series(first: 10) { totalCount edges { node { ${SERIES_FIELDS} } } }
      } } }
    } } }
  }
}`;

export const SERIES = `query Series($query: SearchInput!, $after: String) {
  search(query: $query, first: 20, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { id siteSlug node { ... on Series { ${SERIES_FIELDS} collection { title } } } }
  }
}`;
