from notifier.api.schemas import notifications as schema
from notifier.api import validation
from notifier import exception
from notifier.tests import base


def _body(**overrides):
    notification = {'type': 'COMPUTE_HOST', 'hostname': 'compute-1',
                    'generated_time': '2017-04-24 08:34:46',
                    'payload': {'event': 'STOPPED'}}
    notification.update(overrides)
    return {'notification': notification}


class TestNotificationSchemas(base.TestCase):

    def setUp(self):
        super().setUp()
        self.create = validation.validator(schema.create_request_body)

    def _error(self, compiled, instance, root=''):
        return str(self.assertRaises(exception.ValidationError,
                                     validation.validate, compiled, instance,
                                     root))

    def test_masakari_time_format_without_t_or_zone_is_valid(self):
        validation.validate(self.create, _body())

    def test_garbage_time_names_the_field(self):
        message = self._error(self.create, _body(generated_time='yesterday'))
        self.assertIn('notification.generated_time', message)
        self.assertIn("'yesterday'", message)

    def test_unknown_type_lists_the_allowed_ones(self):
        message = self._error(self.create, _body(type='DISK'))
        self.assertIn('notification.type', message)
        self.assertIn('COMPUTE_HOST', message)

    def test_missing_field_is_named(self):
        body = _body()
        del body['notification']['hostname']
        message = self._error(self.create, body)
        self.assertIn("'hostname' is a required property", message)

    def test_unknown_field_is_named_with_how_to_fix(self):
        message = self._error(self.create, _body(colour='red'))
        self.assertIn("'colour' was unexpected", message)
        self.assertIn('remove the unknown field', message)

    def test_hostname_with_spaces_is_refused(self):
        message = self._error(self.create, _body(hostname='a b'))
        self.assertIn('notification.hostname', message)

    def test_payload_of_each_type_is_checked_with_its_schema(self):
        host = validation.validator(schema.payload_schemas['COMPUTE_HOST'])
        message = self._error(host, {'event': 'EXPLODED'},
                              root='notification.payload')
        self.assertIn('notification.payload.event', message)
        self.assertIn('STARTED', message)

        vm = validation.validator(schema.payload_schemas['VM'])
        message = self._error(vm, {'event': 'LIFECYCLE',
                                   'vir_domain_event': 'STOPPED_FAILED',
                                   'instance_uuid': 'not-a-uuid'},
                              root='notification.payload')
        self.assertIn('notification.payload.instance_uuid', message)

        process = validation.validator(schema.payload_schemas['PROCESS'])
        message = self._error(process, {'event': 'STOPPED'},
                              root='notification.payload')
        self.assertIn("'process_name' is a required property", message)

    def test_long_values_are_shortened_in_the_message(self):
        message = self._error(self.create, _body(hostname='x' * 300))
        self.assertLess(len(message), 300)
