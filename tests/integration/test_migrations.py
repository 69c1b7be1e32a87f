"""The migrations build exactly the tables, columns and indexes the code's models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import make_engine, migrate
from storage.tables import Base


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = [
                d
                for d in compare_metadata(context, Base.metadata)
                if d[0] != "remove_table" or d[1].name != "alembic_version"
            ]
        assert diff == []
    finally:
        engine.dispose()


def test_the_head_is_read_from_the_migration_files_as_alembic_reads_it(db_url: str) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revision

    engine = make_engine(db_url)
    try:
        assert head_revision() == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    finally:
        engine.dispose()


def test_a_journal_at_the_head_opens_without_alembic_and_a_new_one_is_migrated(db_url: str) -> None:
    """Every command opens the journal: one already at the newest revision is only read (no
    Alembic import, no lock); one behind it (here: empty) is migrated by Alembic as before."""
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import inspect, text

    from storage.db import head_revision

    check = (
        "import sys; from storage.db import make_engine, migrate; "
        f"e = make_engine({db_url!r}); migrate(e); e.dispose(); "
        "print('alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.run([sys.executable, "-c", check], cwd=root, capture_output=True, text=True, timeout=120)
            for _ in range(2)]  # fmt: skip
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr[-2000:] for r in runs]
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).has_table("complaints")
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
    finally:
        engine.dispose()
