"""Arkade 5's ADDML processes by name (A.01-A.36): the table the engine instantiates from.

The analyses live in ``analyses.py``, the controls in ``controls.py``, what they share in
``processes.py``; ``catalog.py`` gives each name its id.
"""

from __future__ import annotations

from .analyses import (
    AllFrequenceList,
    CountChars,
    CountNull,
    CountRecordDefinitionOccurrences,
    CountRecords,
    FindExtremeRecords,
    FindExtremeValues,
    FindMinMaxValue,
    FrequenceList,
)
from .controls import (
    AccountNumber,
    AllFixedLength,
    BirthNumber,
    BooleanValue,
    Codes,
    ControlForeignKey,
    ControlKey,
    DataFormat,
    DateValue,
    FixedLength,
    MaxLength,
    MinLength,
    NotNull,
    NotUsedRecordDef,
    NumberOfRecords,
    OrganisationNumber,
    Uniqueness,
)
from .processes import Process

PROCESSES: dict[str, type[Process]] = {
    "Analyse_CountRecords": CountRecords,
    "Analyse_CountChars": CountChars,
    "Analyse_FindExtremeRecords": FindExtremeRecords,
    "Analyse_CountRecordDefinitionOccurrences": CountRecordDefinitionOccurrences,
    "Analyse_AllFrequenceList": AllFrequenceList,
    "Analyse_CountNULL": CountNull,
    "Analyse_FindExtremeValues": FindExtremeValues,
    "Analyse_FindMinMaxValue": FindMinMaxValue,
    "Analyse_FrequenceList": FrequenceList,
    "Control_AllFixedLength": AllFixedLength,
    "Control_NumberOfRecords": NumberOfRecords,
    "Control_FixedLength": FixedLength,
    "Control_NotUsedRecordDef": NotUsedRecordDef,
    "Control_Key": ControlKey,
    "Control_ForeignKey": ControlForeignKey,
    "Control_MinLength": MinLength,
    "Control_MaxLength": MaxLength,
    "Control_DataFormat": DataFormat,
    "Control_NotNull": NotNull,
    "Control_Uniqueness": Uniqueness,
    "Control_Codes": Codes,
    "Control_Birthno": BirthNumber,
    "Control_Organisationno": OrganisationNumber,
    "Control_Accountno": AccountNumber,
    "Control_Date_Value": DateValue,
    "Control_Boolean_Value": BooleanValue,
}
"""Arkade process name -> implementation (``catalog.PROCESS_IDS`` gives the ids)."""
