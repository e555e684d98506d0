"""What every page's skeleton (templates/appbuilder/init.html) needs to read Chinese (issue 15 item 4):
the `<html lang>`, the page's own `<title>`, and the texts of the widgets FAB ships in English —
bootstrap-datepicker, select2 and FAB's `ab_alert` — handed to court/locale.js as JSON."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _


def html_lang() -> str:
    """BCP 47 for the current locale: `zh` → `zh-CN`."""
    locale = str(get_locale() or "zh")
    return "zh-CN" if locale.startswith("zh") else locale.replace("_", "-")


def page_heading(menu) -> str:
    """The active sidebar entry's name: the title of a page whose view gave none."""
    for section in menu:
        for item in section.children:
            for leaf in item.children or [item]:
                if leaf.active and leaf.url:
                    return leaf.label
    return ""


def widget_texts() -> dict:
    return {
        "alerts": {
            # FAB's ab_actions.js: an action pressed with no row ticked
            "No row selected": _("No row selected"),
        },
        "datepicker": {
            "days": [_("Sunday"), _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                     _("Saturday")],
            "daysShort": [_("Sun"), _("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat")],
            "daysMin": [_("Su"), _("Mo"), _("Tu"), _("We"), _("Th"), _("Fr"), _("Sa")],
            "months": [_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"),
                       _("August"), _("September"), _("October"), _("November"), _("December")],
            "monthsShort": [_("Jan"), _("Feb"), _("Mar"), _("Apr"), _("May (short)"), _("Jun"), _("Jul"),
                            _("Aug"), _("Sep"), _("Oct"), _("Nov"), _("Dec")],
            "today": _("Today"),
            "clear": _("Clear"),
            "titleFormat": _("MM yyyy"),
            "weekStart": 1,
        },
        "select2": {
            "placeholder": _("Please select"),
            "removeAllItems": _("Remove all items"),
            "removeItem": _("Remove item"),
            "noResults": _("No results found"),
            "searching": _("Searching…"),
            "loadingMore": _("Loading more results…"),
            "errorLoading": _("The results could not be loaded."),
            "inputTooShort": _("Please type at least %(n)s more characters", n="{n}"),
            "maximumSelected": _("You can select at most %(n)s items", n="{n}"),
        },
    }
