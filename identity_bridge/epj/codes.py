"""KITH / Helsedirektoratet code systems and the values we use.

Sources: the kodeverk tables on finnkode.helsedirektoratet.no, as mirrored by the public
reference clients (KS fiks-nhn-client, NHN Helsenorge.Messaging), and the example messages
in shared/standards/kith/examples.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value: V, DN and the code system OID S (empty where the element is a CS)."""

    v: str
    dn: str
    s: str = ""


# 8279 Meldingens funksjon. MsgInfo/Type is a CS (no S attribute in MsgHead 1.2), so the OID
# is documentation only.
MSG_FUNCTION_OID = "2.16.578.1.12.4.1.1.8279"
DIALOG_HELSEFAGLIG = Code("DIALOG_HELSEFAGLIG", "Helsefaglig dialog")
APPREC = Code("APPREC", "Applikasjonskvittering")
# Helsenorge's appointment processes, each its own value of Meldingens funksjon.
AVTALEUTSENDING = Code("DIALOG_INNBYGGER_AVTALEUTSENDING", "Dialog med innbygger - avtaleutsending")
AVTALEAVBESTILLING = Code("DIALOG_INNBYGGER_AVTALEAVBESTILLING",
                          "Dialog med innbygger - avtaleavbestilling")
TIMEONSKEUNGDOM = Code("DIALOG_INNBYGGER_TIMEONSKEUNGDOM", "Dialog med innbygger - timeønske ungdom")

MIG_VERSION_MSGHEAD = "v1.2 2006-05-24"
MIG_VERSION_APPREC = "1.0 2004-11-21"

# 8114 Type dokumentreferanse (RefDoc/MsgType, a CS).
REFDOC_XML = Code("XML", "XML-instans")
REFDOC_ATTACHMENT = Code("A", "Vedlegg")  # the iCalendar object of an appointment message

# 9051 ID-typer for organisatoriske enheter.
ORG_ID_OID = "2.16.578.1.12.4.1.1.9051"
ORG_HER = Code("HER", "HER-id", ORG_ID_OID)
ORG_ENH = Code("ENH", "Organisasjonsnummeret i Enhetsregister", ORG_ID_OID)

# 8116 ID-type for personer.
PERSON_ID_OID = "2.16.578.1.12.4.1.1.8116"
PERSON_FNR = Code("FNR", "Fødselsnummer", PERSON_ID_OID)
PERSON_DNR = Code("DNR", "D-nummer", PERSON_ID_OID)
PERSON_HPR = Code("HPR", "HPR-nummer", PERSON_ID_OID)

# 7322 Tema for helsefaglig dialog.
THEME_OID = "2.16.578.1.12.4.1.1.7322"
THEME_HENVENDELSE_OM_PASIENT = Code("6", "Henvendelse om pasient", THEME_OID)

# 9034 Helsepersonells funksjoner (RoleToPatient).
# The Notat of an appointment message says what the message is about; the appointment itself
# is the iCalendar attachment. (Our reading of Helsenorge's content standard: verify the theme
# code against it before connecting to a real EPJ.)
THEME_AVTALE = Code("1", "Avtale", THEME_OID)

ROLE_OID = "2.16.578.1.12.4.1.1.9034"
ROLE_HELSEFAGLIG_KONTAKT = Code("21", "Helsefaglig kontakt", ROLE_OID)
ROLE_KONTAKT_HOS_MOTTAKER = Code("24", "Kontakt hos mottaker", ROLE_OID)

# 9060 Kategori helsepersonell (TypeHealthcareProfessional, a CS).
HCP_SYKEPLEIER = Code("SP", "Sykepleier")

# 8258 Status for mottak av melding (AppRec/Status, a CS).
APPREC_STATUS_OID = "2.16.578.1.12.4.1.1.8258"
APPREC_OK = Code("1", "OK")
APPREC_AVVIST = Code("2", "Avvist")
APPREC_OK_FEIL_I_DELMELDING = Code("3", "OK, feil i delmelding")

# 8221 Feilmeldinger for applikasjonskvittering - generelle (AppRec/Error, a CV).
APPREC_ERROR_OID = "2.16.578.1.12.4.1.1.8221"
E_UNKNOWN_RECEIVER = Code("E21", "Mottaker finnes ikke", APPREC_ERROR_OID)
E_XML_INVALID = Code("T02", "XML validerer ikke", APPREC_ERROR_OID)
E_OTHER = Code("X99", "Annen feil", APPREC_ERROR_OID)
