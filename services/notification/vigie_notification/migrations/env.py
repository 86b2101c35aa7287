from vigie_kit.db import run_migrations_online
from vigie_notification.adapters.orm import SCHEMA

run_migrations_online(SCHEMA)
