"""
The moto server as `python3 -m moto.server` runs it, except that DynamoDB requests are applied
one at a time. moto serves each request on its own thread and takes no lock while it updates an
item, so two concurrent conditional writes to one item can both pass their condition (a capped
list trimmed twice, a claim won twice); DynamoDB itself applies the writes to an item one at a
time. Other services (SQS long polls) stay concurrent.

    python3 moto-server.py -H 127.0.0.1 -p 5000
"""
import argparse
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

parser = argparse.ArgumentParser()
parser.add_argument("-H", "--host", default="127.0.0.1")
parser.add_argument("-p", "--port", type=int, default=5000)
args = parser.parse_args()
os.environ.setdefault("MOTO_PORT", str(args.port))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

moto = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()


def app(environ, start_response):
    if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
        return moto(environ, start_response)
    with dynamodb:
        # the whole response is made inside the lock
        return list(moto(environ, start_response))


run_simple(args.host, args.port, app, threaded=True)
