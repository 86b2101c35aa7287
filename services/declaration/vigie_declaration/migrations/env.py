from vigie_declaration.adapters.orm import SCHEMA
from vigie_kit.db import run_migrations_online

run_migrations_online(SCHEMA)
