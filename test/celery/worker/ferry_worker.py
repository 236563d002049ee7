"""A stock Celery 5 worker for ferry's tests: registers the ML task names the real workers use and
records every call it executes, one JSON line per task, in $FERRY_CELERY_RESULTS.

Run: FERRY_CELERY_BROKER=amqp://guest:guest@127.0.0.1:5672/vhost FERRY_CELERY_RESULTS=/tmp/x.jsonl \
     python3 -m celery -A ferry_worker worker -Q ml.summarize,... --pool solo
"""
import json
import os
import threading

from celery import Celery, bootsteps
from kombu import Exchange, Queue

EXCHANGE = Exchange("bookmarkai.ml", type="topic", durable=True)
# Exactly the arguments ferry declares: anything else fails with 406 on whichever side comes second.
QUEUE_ARGUMENTS = {"x-queue-type": "quorum", "x-delivery-limit": 5}
QUEUES = ["ml.summarize", "ml.summarize_local", "ml.transcribe", "ml.transcribe_local", "ml.embed"]

app = Celery("ferry_worker", broker=os.environ["FERRY_CELERY_BROKER"])
app.conf.update(
    task_queues=[Queue(name, EXCHANGE, routing_key=name, queue_arguments=QUEUE_ARGUMENTS) for name in QUEUES],
    accept_content=["json"],
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


class PerConsumerQos(bootsteps.Step):
    """Celery 5.2 applies QoS globally on RabbitMQ, which quorum queues refuse ("global qos is not
    supported"). Before the consumer connects, make its connection report spec semantics, so the Tasks
    bootstep sends basic.qos with global=false: a prefetch per consumer."""

    def __init__(self, consumer, **kwargs):
        super().__init__(consumer, **kwargs)
        connect = consumer.connect

        def connect_per_consumer_qos(*args, **kw):
            connection = connect(*args, **kw)
            connection.transport.qos_semantics_matches_spec = lambda _connection: True
            return connection

        consumer.connect = connect_per_consumer_qos


app.steps["consumer"].add(PerConsumerQos)

_lock = threading.Lock()


def _record(task, **kwargs):
    request = task.request
    line = {
        "task": task.name,
        "id": request.id,
        "args": list(request.args or []),
        "kwargs": kwargs,
        "correlation_id": request.correlation_id,
        "traceparent": request.get("traceparent"),
        "eta": request.eta,
        "expires": request.expires,
        "routing_key": (request.delivery_info or {}).get("routing_key"),
    }
    with _lock, open(os.environ["FERRY_CELERY_RESULTS"], "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    return request.id


TASK_NAMES = [
    "llm_service.tasks.summarize_content",
    "llm_service.tasks.summarize_content_local",
    "whisper.tasks.transcribe_api",
    "whisper.tasks.transcribe_local",
    "vector_service.tasks.generate_embeddings",
    "vector_service.tasks.generate_embeddings_batch",
]

for _name in TASK_NAMES:
    app.task(name=_name, bind=True)(_record)
