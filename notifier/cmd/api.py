"""notifier-api: the REST API on its own (a threaded server, N processes)."""

from notifier import service


def main():
    conf = service.prepare()
    service.check_api_startup(conf)
    service.serve(service.APIServer(conf, reuse_port=conf.api.workers > 1),
                  workers=conf.api.workers)
