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

"""Sphinx configuration of Notifier's release notes (reno)."""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

source_suffix = '.rst'
master_doc = 'index'
project = 'Notifier Release Notes'
copyright = '2026, The Notifier developers'
exclude_patterns = ['_build']
pygments_style = 'native'

openstackdocs_repo_name = 'openstack/notifier'
openstackdocs_bug_project = 'notifier'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_auto_name = False

html_theme = 'openstackdocs'

# Release notes are not translated.
locale_dirs = []
