"""Aftersales' tables (filled in by the aftersales work)."""

from sqlalchemy import MetaData

from lvyue.common.tables import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)
