"""Phase 8: clarification chat during consent. The person server needs its person's consent;
on the consent page the person asks the agent why it wants the data. The agent's long poll
returns ``202`` with ``requirement=clarification`` and the question; the agent answers with a
signed POST (``action: clarification_response``) and resumes polling. The person reads the
answer on the page, asks once more, then approves.

Automated, a simulated person asks and approves through the real pages; with ``--manual``
a person does it in a browser while the agent answers each question it is asked.
"""

from __future__ import annotations

from ..agent.poller import Clarification, DeferredCallbacks
from .consent import PERSON, agent_client, person_server_factory
from .person import PersonAtHand
from .phase1 import expect
from .printer import Printer
from .world import running_world

QUESTIONS = ("Why do you need my data?", "Will you keep a copy?")
ANSWERS = {
    QUESTIONS[0]: "To summarise this quarter's figures for your report.",
    QUESTIONS[1]: "No: I read it once and keep only the summary.",
}


def run(printer: Printer, manual: bool = False) -> None:
    printer.title("Phase 8 — clarification chat (question on the pending URL, POST answer)")
    with running_world(printer, person_server=person_server_factory()) as world:
        person = PersonAtHand(
            printer,
            PERSON,
            str(world.extras["password"]),
            lambda someone, prompt: someone.converse(prompt, QUESTIONS),
            task="ask the agent a question or two, then approve",
            did="read the answers and approved",
            manual=manual,
        )
        asked: list[str] = []

        def on_clarification(question: Clarification) -> str:
            asked.append(question.question)
            answer = ANSWERS.get(question.question, "I need it to finish the task you gave me.")
            printer.note(f"the person asks: {question.question!r} → the agent: {answer!r}")
            return answer

        client, _ = agent_client(
            world,
            DeferredCallbacks(
                on_interaction=person.on_interaction,
                on_clarification=on_clarification,
                on_status=lambda status: printer.note(f"pending request status: {status}"),
            ),
        )
        with client:
            response = client.get(f"{world.resource}/data")
        person.check()
        expect(response.status_code == 200, f"GET /data ended with {response.status_code}")
        expect(manual or tuple(asked) == QUESTIONS, f"the agent was asked {asked}")
        expect(manual or bool(person.outcomes), "nobody approved, yet the agent got a token")
        printer.note(f"the resource answered {response.json()}")
