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

"""Sphinx configuration of the Notifier API reference (api-ref/source).

The request and response samples are the JSON files under
doc/api_samples; notifier/tests/functional/test_api_samples.py checks them
against the real API. The microversion range comes from the code.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                '..', '..')))

from notifier.api import microversion  # noqa: E402

extensions = [
    'openstackdocstheme',
    'os_api_ref',
]

source_suffix = '.rst'
master_doc = 'index'
project = 'Notifier API Reference'
copyright = '2026, The Notifier developers'
exclude_patterns = ['_build']
pygments_style = 'native'

# The microversion selector of os-api-ref.
os_api_ref_min_microversion = microversion.VERSIONS[0]
os_api_ref_max_microversion = microversion.VERSIONS[-1]

openstackdocs_repo_name = 'openstack/notifier'
openstackdocs_bug_project = 'notifier'
openstackdocs_bug_tag = 'api-ref'
openstackdocs_auto_name = False

html_theme = 'openstackdocs'
html_theme_options = {
    'sidebar_mode': 'toc',
}
