"""OBMi: Omgevings-, Beleids- en Managementinformatie for Flemish local governments."""

__version__ = "0.1.0"
