"""The corpus checkers themselves must catch what they are for."""

from __future__ import annotations

from corpus_checks import added_unknown_users, exec_form_mismatches, output_failures


def test_added_unknown_users_checker() -> None:
    """Created, shipped and numeric users pass; others do not."""
    before = 'FROM python:3.12-slim\nCMD ["x"]\n'
    created = 'FROM python:3.12-slim\nRUN useradd -m -s /bin/sh app\nUSER app\nCMD ["x"]\n'
    shipped = "FROM node:20\nUSER node\n"
    numeric = "FROM python:3.12-slim\nUSER 10001\n"
    invented = "FROM python:3.12-slim\nUSER ghost\n"
    assert added_unknown_users(before, created) == []
    assert added_unknown_users(before, shipped) == []
    assert added_unknown_users(before, numeric) == []
    assert added_unknown_users(before, invented) == ["line 2: USER ghost"]


def test_exec_form_checker() -> None:
    before = "FROM a\nCMD gunicorn -b :80 app:app\n"
    good = 'FROM a\nCMD ["gunicorn", "-b", ":80", "app:app"]\n'
    tmp_dir = 'FROM a\nCMD ["gunicorn", "--worker-tmp-dir", "/dev/shm", "-b", ":80", "app:app"]\n'
    wrong = 'FROM a\nCMD ["gunicorn", "app:app"]\n'
    assert exec_form_mismatches(before, good) == []
    assert exec_form_mismatches(before, tmp_dir) == []
    assert exec_form_mismatches(before, wrong)
    shell = "FROM a\nCMD python app.py > /tmp/log\n"
    assert exec_form_mismatches(shell, 'FROM a\nCMD ["python", "app.py", ">", "/tmp/log"]\n')
    exec_prefixed = 'FROM a\nCMD ["/bin/sh", "-c", "exec python app.py > /tmp/log"]\n'
    assert exec_form_mismatches(shell, exec_prefixed) == []
    already = "FROM a\nCMD exec gunicorn -b :$PORT app\n"
    with_tmp = (
        'FROM a\nCMD ["/bin/sh", "-c", "exec gunicorn --worker-tmp-dir /dev/shm -b :$PORT app"]\n'
    )
    assert exec_form_mismatches(already, with_tmp) == []


def test_output_failures_catch_lost_comments_and_rejection() -> None:
    before = "FROM a\n# keep\nRUN x\n"
    assert output_failures(before, "FROM a\nRUN x\n") == ["lost comment lines ['# keep']"]
    assert output_failures(before, "FROM a\nENV A\n") == ["BuildKit rejects the output"]
    assert output_failures(before, before) == []
