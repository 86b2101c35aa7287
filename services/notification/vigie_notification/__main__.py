"""Run the notification service: ``vigie-notification`` (or ``python -m vigie_notification``)."""

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import NotificationSettings


def main() -> None:
    settings = NotificationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
