import os

# oslo.db's opportunistic fixtures read their admin URLs once, when
# oslo_db.sqlalchemy.provision is imported: before any test module. MySQL
# goes through mysqlclient, the driver the install guide recommends (the
# DB API tests also run through PyMySQL: test_api.TestDBAPIPyMySQL). An
# OS_TEST_DBAPI_ADMIN_CONNECTION of the caller's own wins. The list is all
# oslo.db knows, so it names SQLite too.
os.environ.setdefault(
    'OS_TEST_DBAPI_ADMIN_CONNECTION',
    'mysql+mysqldb://openstack_citest:openstack_citest@127.0.0.1/'
    'openstack_citest;'
    'postgresql+psycopg2://openstack_citest:openstack_citest@127.0.0.1/'
    'openstack_citest;'
    'sqlite://')
