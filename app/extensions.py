"""Extension singletons. They hold no app: `create_app` binds them.

`db` must be built with FAB's `Model` so that FAB's security tables and ours
share one metadata (notes/fab5.md §1: otherwise autogenerate drops ab_*).
"""
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

db = get_sqla_class()(model_class=Model)
migrate = Migrate()
csrf = CSRFProtect()
