# The two commands a newcomer needs:  make demo   and   make test
UV := .state/tools/bin/uv
RUN := $(UV) run --frozen --quiet

.PHONY: demo up down status reset test lint schemas setup

setup:
	@infra/bin/setup

## Set up what is missing, start the whole stack, and run a demo you can watch.
demo: setup
	@$(RUN) vigie-stack up
	@$(RUN) vigie-stack demo

## Start what of the stack is not running (broker, database, stand-in receiver, four services).
up: setup
	@$(RUN) vigie-stack up

## Stop everything; the data stays in .state/dev.
down:
	@$(RUN) vigie-stack down

status:
	@$(RUN) vigie-stack status

## Stop everything and delete the local data.
reset:
	@$(RUN) vigie-stack reset

## Lint, type-check, check the contract schemas, and run the whole test suite on a real stack.
test: setup lint
	@$(RUN) pytest

lint:
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy
	@$(RUN) python -m vigie_contracts.schema --check
	@$(RUN) python -m vigie_stack.asyncapi --check

## Regenerate contracts/schemas and contracts/asyncapi.json after changing a contract or a channel.
schemas:
	@$(RUN) python -m vigie_contracts.schema
	@$(RUN) python -m vigie_stack.asyncapi
