"""Domain errors every app may raise from its services, mapped once to HTTP by the API and pages."""


class Conflict(Exception):
    """The thing changed under the caller (someone acted first, or it is in the wrong state): 409."""
