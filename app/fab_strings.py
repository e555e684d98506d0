"""FAB 5.3 strings its zh catalog lacks; listed here so our catalog overrides them.

Never imported: `pybabel extract` reads it (notes/fab5.md §2).
"""
from flask_babel import lazy_gettext as _l

FAB_STRINGS = [
    _l("Add"), _l("Edit"), _l("Show"), _l("Delete"), _l("Cancel"), _l("OK"),
    _l("Are you sure you want to delete this item?"), _l("Database Error"),
    _l("List Groups"), _l("Groups"), _l("Show Group"), _l("Add Group"), _l("Edit Group"),
    _l("Edit User Information"), _l("User information changed"), _l("Either select a role or a group"),
    _l("The user's password for authentication"), _l("User(s) exists in the role, cannot delete"),
    _l("User(s) exists in the group, cannot delete"), _l("Contains (insensitive)"), _l("In"), _l("Not In"),
    _l("Must have at least two capital letters, one special character, two digits, three lower case "
       "letters and a minimal length of 10."),
    _l("Sign In with "), _l("Search"), _l("Added Row"), _l("Changed Row"), _l("Deleted Row"),
    _l("Record Count"), _l("No records found"), _l("Logout"), _l("Sign In"), _l("Password"),
    _l("Reset Password"), _l("Save"), _l("Back"),
    # FAB's zh reads 以开始/以结束 (not Chinese word order)
    _l("Starts with"), _l("Not Starts with"), _l("Ends with"), _l("Not Ends with"),
]
