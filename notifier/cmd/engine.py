"""notifier-engine: delivers notifications; run as many as you like."""

from notifier import service


def main():
    conf = service.prepare()
    service.serve(service.Engine(conf), workers=conf.engine.workers)
