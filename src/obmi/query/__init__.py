"""The one query layer: every read of observations goes through here (web pages, API,
downloads, reports, CLI exports) so that disclosure control cannot be forgotten."""

from obmi.query.observations import ObservationQuery, QueryResult, query_observations

__all__ = ["ObservationQuery", "QueryResult", "query_observations"]
