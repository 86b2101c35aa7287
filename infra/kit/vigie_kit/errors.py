"""What a failure means: try again later, or this input is refused. Statements reach PostgreSQL
through SQLAlchemy (sessions) or on the driver's own connection (``db.driver``); SQLAlchemy wraps
the driver's error, so every error is unwrapped to the driver's first and told apart by one set
of rules, whichever way its statement went."""

import asyncpg
import sqlalchemy.exc
from aiokafka.errors import KafkaError

# SQLSTATE classes that mean "try again later", not "this message is bad": connection
# exceptions, transaction rollbacks (serialization, deadlock), resources, operator intervention.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58")


# The kinds of error an outage may raise, through either way to the database or to the network.
OUTAGES: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.DisconnectionError,
)


class Retry(Exception):
    """Raised by a handler when an event cannot be applied yet; it will be delivered again."""


def driver_error(error: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapping of it (raised ``from`` it), or the
    error itself."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.orig is not None:
        return error.orig.__cause__ or error.orig
    return error


def is_transient(error: BaseException) -> bool:
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    wrapper, error = error, driver_error(error)
    if isinstance(error, Retry | OSError | TimeoutError | KafkaError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        return str(error.sqlstate).startswith(_TRANSIENT_SQLSTATE_CLASSES)
    if isinstance(error, asyncpg.InternalClientError):
        # The driver lost track of its connection's state: a server process ended under a
        # statement being sent, say. The connection is dropped (``db.driver``); a new one will do.
        return True
    if isinstance(error, asyncpg.InterfaceError):
        # The connection closed under us, or one of its operations was still under way; not a
        # value the driver could not encode (DataError) nor a misconfiguration: those are
        # ValueErrors.
        return not isinstance(error, ValueError)
    # SQLAlchemy's own: no connection to be had from the pool in time, or one found dead, or
    # what it calls operational without a driver's error under it.
    return isinstance(error, sqlalchemy.exc.TimeoutError | sqlalchemy.exc.DisconnectionError) or isinstance(
        wrapper, sqlalchemy.exc.OperationalError
    )


def is_unique_violation(error: BaseException) -> bool:
    """A row refused because another holds its key (SQLSTATE 23505)."""
    return isinstance(driver_error(error), asyncpg.UniqueViolationError)
