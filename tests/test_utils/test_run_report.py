"""Data problems are logged as warnings once and summed up at the end."""
import io
import logging

from molt.utils import run_report


def test_reports_are_warnings_kept_once_for_the_summary(monkeypatch):
    calls = []
    monkeypatch.setattr(run_report, 'print_log',
                        lambda msg, **kwargs: calls.append((msg, kwargs)))
    summary = 'x.json: 3 question(s) of a test that reports once'
    run_report.report_data_issue(summary, 'question_id 1, 2, 3')
    run_report.report_data_issue(summary, 'question_id 1, 2, 3')  # again
    assert len(calls) == 1
    message, kwargs = calls[0]
    assert kwargs['level'] == logging.WARNING
    assert message == f'{summary}\n  question_id 1, 2, 3'
    assert run_report.data_issues().count(summary) == 1
    text = run_report.format_data_issues()
    assert text.startswith('Data problems this run accepted')
    assert f'  - {summary}' in text
    printed = io.StringIO()
    run_report.print_data_issues(printed)
    assert printed.getvalue() == text + '\n'
