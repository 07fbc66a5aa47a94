# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Sphinx configuration of the Notifier documentation (doc/source).

The configuration reference and the policy reference are generated from
the code: oslo_config.sphinxext and oslo_policy.sphinxext read the option
and rule definitions through the generator files in etc/notifier, and the
*gen extensions write the sample files into _static/ at each build.
"""

import os
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, TOP)

# Import Notifier before any library that could pick oslo.service's
# default (eventlet) backend: notifier/__init__.py selects the threading
# backend, and the generators below import oslo.messaging, which imports
# oslo_service.service.
import notifier  # noqa: E402,F401

# -- General configuration ---------------------------------------------------

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
    'oslo_config.sphinxconfiggen',
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
]

# oslo_config.sphinxconfiggen: writes _static/notifier.conf.sample
config_generator_config_file = os.path.join(
    TOP, 'etc', 'notifier', 'notifier-config-generator.conf')
sample_config_basename = '_static/notifier'

# oslo_policy.sphinxpolicygen: writes _static/notifier.policy.yaml.sample
policy_generator_config_file = os.path.join(
    TOP, 'etc', 'notifier', 'notifier-policy-generator.conf')
sample_policy_basename = '_static/notifier'

source_suffix = '.rst'
master_doc = 'index'
project = 'Notifier'
copyright = '2026, The Notifier developers'
exclude_patterns = ['_build']
pygments_style = 'native'
add_module_names = False

# -- openstackdocstheme ------------------------------------------------------

openstackdocs_repo_name = 'openstack/notifier'
openstackdocs_bug_project = 'notifier'
openstackdocs_bug_tag = 'doc'
openstackdocs_auto_name = False

# -- Options for HTML output -------------------------------------------------

html_theme = 'openstackdocs'
# _static/ holds only the generated samples, which literalinclude reads
# from the source directory; nothing needs copying to the output.
