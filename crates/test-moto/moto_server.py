"""Starts moto's AWS emulator on a free loopback port for hookline's tests.

Prints the port on stdout, then serves until stdin closes: when the test process ends (even
killed), its end of the pipe closes and this server stops with it.
"""
import logging
import sys

from moto.server import ThreadedMotoServer

# One line per request would drown the test output.
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
