"""The built-in routers of the web app, registered through the `obmi_routers` hook like any
plugin's. Order matters where paths overlap: the API first, the catch-all pages last."""

from __future__ import annotations

from typing import Any

from obmi.hookspecs import hookimpl


@hookimpl
def obmi_routers() -> list[Any]:
    from obmi.web import (
        admin,
        api,
        api_admin,
        area_report_pages,
        auth_pages,
        catalog_api,
        downloads,
        exchange_api,
        finance_api,
        finance_pages,
        index_pages,
        odata_api,
        oidc,
        pages,
        plans_api,
        plans_pages,
        report_api,
        report_pages,
        signals_pages,
        swing_api,
        system,
        table_builder,
        two_indicators,
    )
    return [system.router, api.router, api_admin.router, plans_api.router, finance_api.router, report_api.router,
            exchange_api.router, downloads.router, two_indicators.router, catalog_api.router,
            auth_pages.router, oidc.router, admin.router, plans_pages.router, finance_pages.router,
            report_pages.router, signals_pages.router, swing_api.router, odata_api.router, index_pages.router,
            table_builder.router, area_report_pages.router, pages.router]
