"""The Teams driver against a Teams Workflows-like receiver on loopback."""

from notifier.drivers import msteams
from notifier import exception
from notifier.tests.functional.drivers import base
from notifier.tests.functional.drivers import receivers

SIG = 'Zm9vYmFyc2lnbmF0dXJlMTIzNDU2Nzg5MA'
PATH = ('/workflows/0c7e5a0b2f5e4b7c/triggers/manual/paths/invoke'
        '?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=' + SIG)


def card_problems(body):
    """What a Teams workflow would find wrong with ``body``."""
    problems = []
    if body.get('type') != 'message':
        problems.append('type is not message')
    attachments = body.get('attachments') or []
    if len(attachments) != 1:
        return problems + ['not one attachment']
    attachment = attachments[0]
    if attachment.get('contentType') != msteams.ADAPTIVE_CARD:
        problems.append('not an adaptive card')
    card = attachment.get('content') or {}
    if card.get('type') != 'AdaptiveCard' or card.get('version') != '1.4':
        problems.append('not an AdaptiveCard 1.4')
    blocks = card.get('body') or []
    if [b.get('type') for b in blocks] != ['TextBlock', 'TextBlock']:
        problems.append('body is not two TextBlocks')
    return problems


class TestTeams(base.DriverTestCase):

    def setUp(self):
        super().setUp()
        self.keep_secret(SIG, PATH)
        self.answer = (202, {'x-ms-workflow-run-id': '0858'}, b'')
        self.teams = self.useFixture(receivers.HTTPReceiver(self.receive))
        self.driver = msteams.MSTeamsDriver(self.conf)
        self.addCleanup(self.driver.close)
        self.settings = {'webhook_url': self.teams.url + PATH}

    def receive(self, request):
        if request.path != PATH:
            return 404, {}, b'workflow not found'
        problems = card_problems(request.json())
        if problems:
            return 400, {}, {'error': {'message': ', '.join(problems)}}
        return self.answer

    def test_adaptive_card_is_accepted(self):
        result = self.deliver(self.driver, self.settings)
        self.assertEqual('HTTP 202 X-Ms-Workflow-Run-Id=0858',
                         result.receipt)
        [request] = self.teams.requests
        self.assertEqual('application/json', request.headers['Content-Type'])
        title, text = request.json()['attachments'][0]['content']['body']
        self.assertEqual({'type': 'TextBlock', 'weight': 'Bolder',
                          'size': 'Medium', 'wrap': True,
                          'text': '[COMPUTE_HOST] STOPPED on compute-1'},
                         title)
        self.assertTrue(text['wrap'])
        self.assertIn('Host compute-1 stopped.', text['text'])

    def test_throttled_is_retryable_after_retry_after(self):
        self.answer = (429, {'Retry-After': '12'}, {'error': 'throttled'})
        error = self.deliver_fails(exception.RetryableDeliveryError,
                                   self.driver, self.settings)
        self.assertEqual(12.0, error.retry_after)
        self.assertEqual('HTTP 429', error.receipt)

    def test_server_error_is_retryable(self):
        self.answer = (502, {}, b'bad gateway')
        self.deliver_fails(exception.RetryableDeliveryError, self.driver,
                           self.settings)

    def test_unknown_workflow_is_permanent_and_shows_only_the_host(self):
        url = self.teams.url + PATH.replace(SIG, 'b' * 40)
        self.keep_secret('b' * 40)
        error = self.deliver_fails(exception.PermanentDeliveryError,
                                   self.driver, {'webhook_url': url})
        self.assertIn('Teams workflow at 127.0.0.1:%d answered HTTP 404'
                      % self.teams.port, str(error))
