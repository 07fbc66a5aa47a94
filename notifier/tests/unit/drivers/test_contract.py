"""Every delivery driver keeps the contract of notifier.drivers.base."""

import jsonschema

from notifier.conf import drivers as drivers_conf
from notifier.drivers import email
from notifier.drivers import msteams
from notifier.drivers import slack
from notifier.drivers import sms
from notifier.drivers import webhook
from notifier.tests.unit.drivers import base

DRIVERS = {
    'email': email.EmailDriver,
    'sms': sms.SMSDriver,
    'slack': slack.SlackDriver,
    'msteams': msteams.MSTeamsDriver,
    'webhook': webhook.WebhookDriver,
}


class TestDriverContract(base.DriverUnitTestCase):

    def test_settings_schemas_are_closed_and_described(self):
        for name, cls in DRIVERS.items():
            schema = cls.settings_schema
            jsonschema.Draft202012Validator.check_schema(schema)
            self.assertIs(False, schema['additionalProperties'], name)
            self.assertTrue(schema.get('description'), name)
            for field, spec in schema['properties'].items():
                self.assertTrue(spec.get('description'),
                                '%s.%s has no description' % (name, field))

    def test_secret_settings_are_settings(self):
        for name, cls in DRIVERS.items():
            self.assertLessEqual(set(cls.secret_settings),
                                 set(cls.settings_schema['properties']),
                                 name)

    def test_every_driver_validates_settings(self):
        for name, cls in DRIVERS.items():
            self.assertTrue(callable(getattr(cls, 'validate_settings', None)),
                            name)

    def test_each_driver_has_its_option_group_with_help(self):
        for name in list(DRIVERS) + ['log']:
            group = 'driver_%s' % name
            self.assertIn(group, drivers_conf.GROUPS)
            for opt in drivers_conf.GROUPS[group]:
                self.assertGreater(len(opt.help or ''), 30,
                                   '[%s] %s' % (group, opt.name))

    def test_secret_options_are_secret(self):
        opts = {(g, o.name): o for g, group in drivers_conf.GROUPS.items()
                for o in group}
        self.assertTrue(opts[('driver_email', 'password')].secret)
        self.assertTrue(opts[('driver_slack', 'token')].secret)


class TestSecretsAreNotQuoted(base.DriverUnitTestCase):
    """A destination's secret that is refused is not quoted in the error
    (the API returns it in a 400 and may log it)."""

    BAD = {
        ('slack', 'webhook_url'): ['ftp://hooks.example/SECRETVALUE',
                                   'https://h.example/' + 'SECRETVALUE' * 200,
                                   'https://169.254.169.254/SECRETVALUE'],
        ('msteams', 'webhook_url'): ['SECRETVALUE',
                                     'http://[fe80::1]/SECRETVALUE'],
        ('webhook', 'auth_token'): ['SECRETVALUE\r\nX-Injected: 1',
                                    'SECRETVALUE' * 500, ''],
        ('webhook', 'signing_secret'): ['whsec_SECRETVALUE',
                                        'whsec_SECRETVALUE!!!',
                                        'SECRETVALUE' * 20],
    }
    REQUIRED = {'webhook': {'url': 'https://203.0.113.9/hook'}}

    def test_refused_secrets_are_not_in_the_message(self):
        for (name, field), values in self.BAD.items():
            driver = DRIVERS[name](self.conf)
            self.addCleanup(driver.close)
            for value in values:
                settings = dict(self.REQUIRED.get(name, {}), **{field: value})
                message = self.invalid(driver, settings)
                self.assertIn('settings.%s' % field, message)
                if value:
                    self.assertNotIn('SECRETVALUE', message)
