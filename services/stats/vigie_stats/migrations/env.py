from vigie_kit.db import run_migrations_online
from vigie_stats.adapters.orm import SCHEMA

run_migrations_online(SCHEMA)
