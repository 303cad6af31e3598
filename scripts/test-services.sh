#!/usr/bin/env bash
# Make sure the database servers the tests use are running (idempotent).
# Today the suite needs only SQLite (in Python); server engines are added with their adapters.
set -euo pipefail
echo "test services: SQLite only (built into Python)"
