"""Shared by the python client scripts: the step runner and transcript format that
//test/clients:client_matrix_test compares (test/clients/client_matrix_test.cc)."""
import signal
import sys


def run(steps):
    current = ["connect"]

    def timeout(signum, frame):
        print(f"FAIL {current[0]}: no answer within 20 s", flush=True)
        sys.exit(1)

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    for name, fn in steps:
        current[0] = name
        try:
            result = fn()
        except Exception as e:  # report the client's own error text
            print(f"FAIL {name}: {type(e).__name__}: {e}".replace("\n", " "), flush=True)
            sys.exit(1)
        print(f"{name} {result}", flush=True)
    print("done", flush=True)
