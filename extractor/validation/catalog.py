"""Every check the validator runs: id, name, kind and what it tests, in one table.

The ids of Arkade 5's checks are Arkade's own (``A.nn`` for the processes named in addml.xml,
``AH.nn`` for the three it always runs), so a report can be read next to Arkade's. uttrekk's own
checks are ``U.nn``, those of a DIAS package ``D.nn``, and those of a SIARD file ``S.nn``.
"""

from __future__ import annotations

from dataclasses import dataclass

ANALYSIS = "Arkade analysis"
CONTROL = "Arkade control"
HARDCODED = "Arkade, always run"
OWN = "uttrekk"
DIAS = "uttrekk, DIAS package"
SIARD = "uttrekk, SIARD file"


@dataclass(frozen=True)
class CheckInfo:
    id: str
    name: str
    kind: str
    description: str


_CHECKS = [
    CheckInfo("A.01", "Analyse_CountRecords", ANALYSIS, "Number of records in the file."),
    CheckInfo("A.02", "Analyse_CountChars", ANALYSIS, "Number of characters in the file (sum of the field values)."),
    CheckInfo("A.03", "Analyse_FindExtremeRecords", ANALYSIS, "Longest and shortest record for each record type."),
    CheckInfo("A.04", "Analyse_CountRecordDefinitionOccurrences", ANALYSIS, "Number of records of each record type."),
    CheckInfo("A.05", "Analyse_AllFrequenceList", ANALYSIS, "Frequency of each value in every field with a code list."),
    CheckInfo("A.07", "Analyse_CountNULL", ANALYSIS, "Number of empty (null) values in the field."),
    CheckInfo("A.08", "Analyse_FindExtremeValues", ANALYSIS, "Longest and shortest value in the field."),
    CheckInfo("A.09", "Analyse_FindMinMaxValue", ANALYSIS, "Lowest and highest integer value in the field."),
    CheckInfo("A.10", "Analyse_FrequenceList", ANALYSIS, "Frequency of each value in the field."),
    CheckInfo("A.11", "Control_AllFixedLength", CONTROL, "Record length equals the record definition's fixedLength."),
    CheckInfo("A.12", "Control_NumberOfRecords", CONTROL, "Records in the file equal the numberOfOccurrences property."),
    CheckInfo("A.13", "Control_FixedLength", CONTROL, "Record length equals the record definition's fixedLength (one type)."),
    CheckInfo("A.14", "Control_NotUsedRecordDef", CONTROL, "Every record definition of the file occurs in it."),
    CheckInfo("A.15", "Control_Key", CONTROL, "Primary-key values are unique."),
    CheckInfo("A.16", "Control_ForeignKey", CONTROL,
              "Every foreign-key value exists among the referenced primary-key values (empty values included)."),
    CheckInfo("A.17", "Control_MinLength", CONTROL, "No value is shorter than minLength."),
    CheckInfo("A.18", "Control_MaxLength", CONTROL, "No value is longer than maxLength."),
    CheckInfo("A.19", "Control_DataFormat", CONTROL, "Every value is valid for the field's data type and format."),
    CheckInfo("A.20", "Control_NotNull", CONTROL, "No empty or blank value in a notNull field."),
    CheckInfo("A.21", "Control_Uniqueness", CONTROL, "Every value of the field is unique."),
    CheckInfo("A.22", "Control_Codes", CONTROL, "Every value is in the field's code list."),
    CheckInfo("A.32", "Control_Birthno", CONTROL, "Every value is a fødselsnummer with valid check digits."),
    CheckInfo("A.33", "Control_Organisationno", CONTROL, "Every value is an organisasjonsnummer with a valid check digit."),
    CheckInfo("A.34", "Control_Accountno", CONTROL, "Every value is a kontonummer with a valid check digit."),
    CheckInfo("A.35", "Control_Date_Value", CONTROL, "Every value of a date field parses with the field format."),
    CheckInfo("A.36", "Control_Boolean_Value", CONTROL, "Every value of a boolean field is one of the two format strings."),
    CheckInfo("AH.01", "Control_Checksum", HARDCODED, "The checksum property is present, its algorithm known, and it matches."),
    CheckInfo("AH.02", "Control_ExtraOrMissingFiles", HARDCODED,
              "Every file under content/ is described in addml.xml and every described file exists."),
    CheckInfo("AH.03", "Control_RecordAndFieldDelimiters", HARDCODED,
              "Every record has the defined number of fields (delimited) or the defined length (fixed)."),
    CheckInfo("U.01", "Schema", OWN, "addml.xml is valid against the ADDML schema of its version (8.2 or 8.3); an "
              "ADDMML 7 description against the ADDMML 7.3 DTD."),
    CheckInfo("U.02", "Arkivverket profile", OWN, "addml.xml follows the Arkivverket ADDML 8.3 profile (2020)."),
    CheckInfo("U.03", "Charset", OWN, "Every byte of a flat file is valid in the file's declared charset."),
    CheckInfo("U.04", "NULL and empty", OWN,
              "No NULL (empty unquoted field, all-blank fixed field) in a notNull field; no empty text in a non-text field."),
    CheckInfo("U.05", "Foreign keys (NULL-aware)", OWN,
              "Every foreign key without an empty (NULL) part exists among the referenced values."),
    CheckInfo("U.06", "ADDML definition", OWN,
              "addml.xml can be loaded the way Arkade 5 loads it: types, formats, references, process names and levels."),
    CheckInfo("U.07", "Number of records", OWN,
              "Records in the file equal numberOfOccurrences where Control_NumberOfRecords is not named."),
    CheckInfo("U.08", "XML well-formed", OWN,
              "Every XML data file is well-formed XML without a DTD, read to its end, with the table's root element."),
    CheckInfo("U.09", "XML schema", OWN,
              "Every XML data file is valid against the schema the extract ships for it (structure, fields, attributes)."),
    CheckInfo("U.10", "XML values", OWN,
              "Every value in an XML data file is valid for its schema type and facets and in its code list."),
    CheckInfo("U.11", "XML keys", OWN,
              "Primary-key values (and alternate keys without NULL parts) of an XML data file are unique."),
    CheckInfo("S.01", "SIARD metadata", SIARD,
              "header/metadata.xml is well-formed without a DTD and valid against the SIARD metadata schema of its "
              "version (2.x: the bundled SIARD 2.2 schema; 1.0: the schema the file carries)."),
    CheckInfo("S.02", "SIARD table files", SIARD,
              "Every table file is in the archive, well-formed, valid against its own XSD, and holds only the cells "
              "metadata.xml describes."),
    CheckInfo("S.03", "SIARD row counts", SIARD, "Every table file holds as many rows as metadata.xml says."),
    CheckInfo("S.04", "SIARD LOB files", SIARD,
              "Every LOB a cell refers to is there (in the archive or in its lobFolder outside it), readable, and of "
              "the length the cell gives."),
    CheckInfo("S.05", "SIARD digests", SIARD, "Every LOB with a digest has that digest (MD5, SHA-1, SHA-256)."),
    CheckInfo("S.06", "SIARD keys", SIARD,
              "Primary-key values are unique and never NULL; candidate-key values without NULL parts are unique."),
    CheckInfo("S.07", "SIARD foreign keys", SIARD,
              "Every foreign-key value without a NULL part exists among the referenced table's key values."),
    CheckInfo("D.01", "DIAS structure", DIAS,
              "The tar's first entry is the folder {uuid}/ named like the tar, holding everything DIAS requires."),
    CheckInfo("D.02", "dias-mets.xml", DIAS, "dias-mets.xml is well-formed and valid against DIAS_METS.xsd."),
    CheckInfo("D.03", "dias-premis.xml", DIAS,
              "administrative_metadata/dias-premis.xml is well-formed and valid against DIAS_PREMIS.xsd."),
    CheckInfo("D.04", "Listed files", DIAS,
              "Every file dias-mets.xml lists is in the tar with the listed size and checksum."),
    CheckInfo("D.05", "Unlisted files", DIAS, "Every file in the tar except dias-mets.xml is listed in dias-mets.xml."),
    CheckInfo("D.06", "Info file", DIAS,
              "{uuid}.xml beside the tar is valid and gives the tar's and dias-mets.xml's size and checksum."),
]

CHECKS: dict[str, CheckInfo] = {c.id: c for c in _CHECKS}
PROCESS_IDS: dict[str, str] = {c.name: c.id for c in _CHECKS if c.id.startswith("A.")}
"""Arkade process name (exact, case-sensitive) -> check id."""


def order_key(check_id: str) -> tuple[int, int]:
    """Sort A.nn, AH.nn, U.nn, S.nn, then D.nn, each by number."""
    prefix, _, number = check_id.partition(".")
    return ({"A": 0, "AH": 1, "U": 2, "S": 3}.get(prefix, 4), int(number) if number.isdigit() else 0)
