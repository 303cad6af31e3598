-- Seed for the Oracle test container (docker/compose.yaml): one row of every vendor type the adapter
-- converts (dialects/oracle.py), in the schema of the app user UTTREKK in FREEPDB1. The image runs
-- it once, as SYSDBA, when it creates the database. Test data only. Try it:
--   uttrekk inspect 'oracle+oracledb://uttrekk:...@127.0.0.1:1521/?service_name=FREEPDB1'
WHENEVER SQLERROR EXIT SQL.SQLCODE
ALTER SESSION SET CONTAINER = FREEPDB1;
ALTER SESSION SET CURRENT_SCHEMA = UTTREKK;

CREATE TYPE punkt AS OBJECT (x NUMBER, y NUMBER);
/
CREATE TABLE typer (
    id NUMBER(10) NOT NULL PRIMARY KEY,
    tall NUMBER,                              -- every digit
    heltall NUMBER(12),
    belop NUMBER(12,2),                       -- 1250,50
    hundre NUMBER(10,-2),                     -- an integer, read exactly
    flyt FLOAT(126),                          -- a decimal number: 0,1 stays 0,1
    dobbel BINARY_DOUBLE,
    dato DATE,                                -- carries a time: 2020-02-29T13:45:00
    tid TIMESTAMP(9),                         -- nine fraction digits
    tidtz TIMESTAMP(9) WITH TIME ZONE,        -- keeps +01:00
    tidltz TIMESTAMP WITH LOCAL TIME ZONE,    -- written in UTC, +00:00
    varighet INTERVAL DAY(3) TO SECOND(9),    -- P1DT2H30M0.000000001S
    periode INTERVAL YEAR(2) TO MONTH,        -- P1Y2M
    tekst VARCHAR2(100 CHAR),
    ntekst NVARCHAR2(100),
    kode CHAR(4 CHAR),
    notat CLOB,
    data BLOB,
    guid RAW(16),                             -- 32 hex digits
    vedlegg BFILE,                            -- UTTREKK_DOK/soknad.pdf; the file itself is not read
    rad UROWID,
    sted punkt                                -- {"X": 10.75, "Y": 59.91}
);
COMMENT ON TABLE typer IS 'Én rad av hver type';
INSERT INTO typer VALUES (
    1, 123456789012.12345678901234567890, 123456789012, 1250.50, 12300, 0.1, 0.1,
    TO_DATE('2020-02-29 13:45:00', 'YYYY-MM-DD HH24:MI:SS'),
    TO_TIMESTAMP('2020-01-01 10:00:00.123456789', 'YYYY-MM-DD HH24:MI:SS.FF9'),
    TO_TIMESTAMP_TZ('2020-01-01 10:00:00.123456789 +01:00', 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'),
    TO_TIMESTAMP_TZ('2020-01-01 10:00:00 +01:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM'),
    INTERVAL '1 02:30:00.000000001' DAY(3) TO SECOND(9), INTERVAL '1-2' YEAR(2) TO MONTH,
    'Máret Čuđežáš Ŋuolja', 'Ærlig øl', 'ab', 'Lang merknad', HEXTORAW('25504446'),
    HEXTORAW('6F9619FF8B86D011B42D00C04FC964FF'), BFILENAME('UTTREKK_DOK', 'soknad.pdf'), NULL,
    punkt(10.75, 59.91));
INSERT INTO typer (id, varighet, periode) VALUES (2, NUMTODSINTERVAL(-0.5, 'SECOND'), NUMTOYMINTERVAL(-1, 'MONTH'));  -- -PT0.5S, -P1M
UPDATE typer SET rad = ROWID;

CREATE TABLE gammel (id NUMBER(10) NOT NULL PRIMARY KEY, tekst LONG);  -- one LONG per table
INSERT INTO gammel VALUES (1, 'Lang tekst i en LONG-kolonne');

-- XMLTYPE needs XML DB; the slim image may lack it, so this table is made only where it can be.
BEGIN
    EXECUTE IMMEDIATE 'CREATE TABLE dokument (id NUMBER(10) NOT NULL PRIMARY KEY, dok XMLTYPE)';
    EXECUTE IMMEDIATE q'[INSERT INTO dokument VALUES (1, XMLTYPE('<sak id="1"><tittel>Søknad</tittel></sak>'))]';
EXCEPTION
    WHEN OTHERS THEN NULL;
END;
/
COMMIT;
HOST touch /tmp/uttrekk-seeded
