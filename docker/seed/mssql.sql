-- Seed for the SQL Server test container (docker/compose.yaml): a database `uttrekk` with snapshot
-- isolation allowed, a login that can only read, and one row of every vendor type the adapter
-- converts (dialects/mssql.py). Run by sqlcmd at every start; it creates only what is missing.
-- Test data only. Try it:  uttrekk inspect 'mssql+pyodbc://uttrekk_les:...@127.0.0.1:1433/uttrekk?...'

IF DB_ID(N'uttrekk') IS NULL
    CREATE DATABASE uttrekk;
GO
-- The adapter reads the whole run in one SNAPSHOT transaction only where the database allows it.
ALTER DATABASE uttrekk SET ALLOW_SNAPSHOT_ISOLATION ON;
GO
-- SQL Server has no read-only session: a login with db_datareader only is what makes it refuse writes.
IF SUSER_ID(N'uttrekk_les') IS NULL
    CREATE LOGIN uttrekk_les WITH PASSWORD = N'$(READER_PASSWORD)', CHECK_POLICY = OFF, DEFAULT_DATABASE = uttrekk;
GO
USE uttrekk;
GO
IF USER_ID(N'uttrekk_les') IS NULL
BEGIN
    CREATE USER uttrekk_les FOR LOGIN uttrekk_les;
    ALTER ROLE db_datareader ADD MEMBER uttrekk_les;
END;
GO
IF OBJECT_ID(N'dbo.typer') IS NULL
BEGIN
    CREATE TABLE dbo.typer (
        id int NOT NULL PRIMARY KEY,
        tidtz datetimeoffset(7),   -- 2020-01-01T10:00:00.1234567+01:00: seven digits and the offset
        tid datetime2(7),          -- 2020-01-01T10:00:00.1234567
        gammel datetime,           -- 2020-01-01T10:00:00.003
        kl time(7),                -- 18:00:00.1234567
        dato date,
        guid uniqueidentifier,     -- upper case, 36 characters
        penger money,              -- 12,5000
        smapenger smallmoney,
        versjon rowversion,        -- 0x and 16 hex digits
        dok xml,
        bilde image,               -- a file
        notat ntext,
        gammeltekst text COLLATE Danish_Norwegian_CI_AS,  -- code page 1252: Æ Ø Å read exactly
        kode char(4) COLLATE Danish_Norwegian_CI_AS,
        navn varchar(50) COLLATE Danish_Norwegian_CI_AS,
        variant sql_variant,       -- text by its base type
        sti hierarchyid,           -- /1/3/
        sted geography,            -- SRID=4326;POINT (10.75 59.91)
        aktiv bit,
        liten tinyint,
        data varbinary(max),
        tekst nvarchar(max)        -- Sami letters: not in ISO 8859-1
    );
    EXEC sp_addextendedproperty N'MS_Description', N'Én rad av hver type', N'SCHEMA', N'dbo', N'TABLE', N'typer';
    INSERT INTO dbo.typer (id, tidtz, tid, gammel, kl, dato, guid, penger, smapenger, dok, bilde, notat,
                           gammeltekst, kode, navn, variant, sti, sted, aktiv, liten, data, tekst)
    VALUES (1, '2020-01-01 10:00:00.1234567 +01:00', '2020-01-01 10:00:00.1234567', '2020-01-01 10:00:00.003',
            '18:00:00.1234567', '2020-02-29', '6F9619FF-8B86-D011-B42D-00C04FC964FF', 12.5, 1.25,
            N'<sak id="1"><tittel>Søknad</tittel></sak>', 0x25504446, N'Lang merknad', 'Ærlig øl på å',
            'ab', 'Blåbær', CAST(0.1 AS float), hierarchyid::Parse('/1/3/'),
            geography::Point(59.91, 10.75, 4326), 1, 255, 0x00FF, N'Máret Čuđežáš Ŋuolja'),
           (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            CAST('2020-01-01T10:00:00.5' AS datetime2(3)), NULL, NULL, 0, 0, 0x, N'');
END;
GO
