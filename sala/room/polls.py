"""A meeting's poll, as BBB runs them: the presenter asks, others answer once, the presenter
sees results live and publishes them to everybody.

The room holds at most one poll at a time. Each start and each answer is appended to the
meeting's log in bbb-webhooks' shape (`poll-started` with `poll.answers` [{id, key}],
`poll-responded` with `poll.answerIds`), which webhooks, the analytics callback (`polls`,
`poll_votes`) and recordings read; stopping and publishing are logged too (`poll-stopped`,
`poll-published`, no webhooks), so a room rebuilt from the log has the same poll (`from_log`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

PRESET_ANSWERS = {
    "YN": ["Yes", "No"],
    "TF": ["True", "False"],
    "ABCD": ["A", "B", "C", "D"],
}


class PollError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Poll:
    id: str
    question: str
    kind: str
    answers: list[str]
    anonymous: bool
    multiple: bool
    open: bool = True
    votes: dict[str, list[int] | str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls, kind: str, question: str, options: list[str], anonymous: bool, multiple: bool
    ) -> Poll:
        if kind == "custom":
            answers = [o.strip() for o in options if o.strip()]
            if len(answers) < 2:
                raise PollError("invalid", "A custom poll needs at least two options")
        elif kind == "response":
            answers = []
        else:
            answers = PRESET_ANSWERS[kind]
        return cls(str(uuid.uuid4()), question.strip(), kind, answers, anonymous, multiple)

    @classmethod
    def from_log(cls, started: dict[str, Any]) -> Poll:
        """The poll a `poll-started` event's data describes, open and unanswered."""
        poll = started["poll"]
        return cls(
            str(poll["id"]),
            str(poll.get("question", "")),
            str(started.get("kind", "custom")),
            [str(a["key"]) for a in poll.get("answers", [])],
            bool(started.get("anonymous")),
            bool(started.get("multiple")),
        )

    def answered(self, user_id: str, name: str, answer: dict[str, Any]) -> None:
        """A `poll-responded` event's answer (as `log_answer` made it), taken as it was."""
        if self.typed:
            self.votes[user_id] = str(answer.get("text", ""))
        else:
            self.votes[user_id] = [int(n) for n in answer["poll"].get("answerIds", [])]
        self.names[user_id] = name

    @property
    def typed(self) -> bool:
        return self.kind == "response"

    def answer(self, user_id: str, name: str, choices: list[int], text: str | None) -> None:
        if not self.open:
            raise PollError("closed", "This poll has ended")
        if user_id in self.votes:
            raise PollError("already_answered", "You have already answered this poll")
        if self.typed:
            if not text or not text.strip():
                raise PollError("invalid", "Type an answer")
            self.votes[user_id] = text.strip()
        else:
            unique = sorted(set(choices))
            if not unique or any(c >= len(self.answers) for c in unique):
                raise PollError("invalid", "Choose one of the poll's options")
            if len(unique) > 1 and not self.multiple:
                raise PollError("invalid", "This poll takes a single answer")
            self.votes[user_id] = unique
        self.names[user_id] = name

    def counts(self) -> list[dict[str, Any]]:
        if self.typed:
            tally: dict[str, int] = {}
            for text in self.votes.values():
                tally[str(text)] = tally.get(str(text), 0) + 1
            return [{"key": k, "votes": v} for k, v in sorted(tally.items())]
        return [
            {
                "key": key,
                "votes": sum(1 for v in self.votes.values() if isinstance(v, list) and n in v),
            }
            for n, key in enumerate(self.answers)
        ]

    def view(self) -> dict[str, Any]:
        """What those who answer see."""
        return {
            "id": self.id,
            "question": self.question,
            "answers": self.answers,
            "multiple": self.multiple,
            "typed": self.typed,
        }

    def results(self) -> dict[str, Any]:
        """What the presenter sees live: counts, and who answered what unless anonymous."""
        responses = (
            []
            if self.anonymous
            else [
                {"name": self.names[u], "answer": _answer_text(self, v)}
                for u, v in self.votes.items()
            ]
        )
        return {
            "id": self.id,
            "question": self.question,
            "counts": self.counts(),
            "responders": len(self.votes),
            "responses": responses,
            "open": self.open,
        }

    def log_started(self) -> dict[str, Any]:
        return {
            "poll": {
                "id": self.id,
                "question": self.question,
                "answers": [{"id": n, "key": key} for n, key in enumerate(self.answers)],
            },
            "kind": self.kind,
            "anonymous": self.anonymous,
            "multiple": self.multiple,
        }

    def log_answer(self, user_id: str) -> dict[str, Any]:
        vote = self.votes[user_id]
        if isinstance(vote, list):
            return {"poll": {"id": self.id, "answerIds": vote}}
        return {"poll": {"id": self.id, "answerIds": []}, "text": vote}


def _answer_text(poll: Poll, vote: list[int] | str) -> str:
    if isinstance(vote, str):
        return vote
    return ", ".join(poll.answers[n] for n in vote)
