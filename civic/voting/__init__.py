"""Shareholder voting on service priorities: rounds, ballots, results and the shareholder report."""

from civic.voting.ballots import (
    SharesLeft,
    ballot_page,
    ballot_url,
    cast_ballot,
    code_batch,
    code_batches,
    eligibility,
    enter_paper_ballot,
    generate_codes,
    paper_page,
    preview,
    receipt_hash,
    receipt_shares,
    show_code,
    verify_identity,
)
from civic.voting.exchange import import_pabulib
from civic.voting.models import Allocation, Ballot, CodeBatch, Priority, ProgressUpdate, Round, VotingCode
from civic.voting.report import post_progress, progress_of, stop_page, stop_report_emails
from civic.voting.results import (
    ballot_list,
    count_round,
    export_pabulib,
    publish_preview,
    publish_results,
    published_results,
    results_csv,
    tabulate,
)
from civic.voting.rounds import (
    add_priority,
    advance_rounds,
    close_preview,
    close_round,
    create_round,
    list_rounds,
    open_round,
    remove_priority,
    staff_priority,
    staff_round,
    update_priority,
    update_round,
    visible_round,
)

__all__ = [
    "Allocation", "Ballot", "CodeBatch", "Priority", "ProgressUpdate", "Round", "SharesLeft", "VotingCode",
    "add_priority", "advance_rounds", "ballot_list", "ballot_page", "ballot_url", "cast_ballot", "close_preview", "close_round", "code_batch",
    "code_batches", "count_round", "create_round", "eligibility", "enter_paper_ballot", "export_pabulib",
    "generate_codes", "import_pabulib", "list_rounds", "open_round", "paper_page", "post_progress", "preview", "progress_of",
    "publish_preview", "publish_results", "published_results", "receipt_hash", "receipt_shares", "remove_priority", "results_csv", "show_code",
    "staff_priority", "staff_round", "stop_page", "stop_report_emails", "tabulate", "update_priority",
    "update_round", "verify_identity", "visible_round",
]
