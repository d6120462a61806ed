"""The fictional demo world: one region, two municipalities, their units, staff and teams.

Every name here is invented. Usernames say the role so a tester can pick the right login.
"""

from __future__ import annotations

from directory.models import Profession, Sector

DEMO_PASSWORD = "Samverkan-demo-2026"  # noqa: S105 - printed for demo logins only

REGION = "Region Sjöland"
MUNICIPALITIES = ["Ekby kommun", "Sjöstad kommun"]

# (organisation, municipality, sector, unit name)
UNITS: list[tuple[str, str, str, str]] = [
    (REGION, "Ekby kommun", Sector.CHILD_HEALTH, "BVC Ekby centrum"),
    (REGION, "Ekby kommun", Sector.CHILD_HEALTH, "BVC Ekby norra"),
    (REGION, "Sjöstad kommun", Sector.CHILD_HEALTH, "BVC Sjöstad"),
    (REGION, "Ekby kommun", Sector.PRIMARY_CARE, "Hälsocentralen Ekby"),
    (REGION, "Ekby kommun", Sector.CHILD_HEALTH, "Barnpsykologmottagningen Sjöland"),
    (REGION, "Ekby kommun", Sector.PRIMARY_CARE, "Logopedmottagningen Sjöland"),
    ("Ekby kommun", "Ekby kommun", Sector.PRESCHOOL, "Förskolan Ekorren"),
    ("Ekby kommun", "Ekby kommun", Sector.PRESCHOOL, "Förskolan Lärkan"),
    ("Ekby kommun", "Ekby kommun", Sector.SCHOOL, "Ekbyskolan"),
    ("Ekby kommun", "Ekby kommun", Sector.STUDENT_HEALTH, "Elevhälsan Ekbyskolan"),
    ("Ekby kommun", "Ekby kommun", Sector.SOCIAL_SERVICES, "Socialtjänsten Ekby, öppenvård"),
    ("Ekby kommun", "Ekby kommun", Sector.SOCIAL_SERVICES, "Budget- och skuldrådgivningen Ekby"),
    ("Ekby kommun", "Ekby kommun", Sector.SOCIAL_SERVICES, "Familjerådgivningen Ekby"),
    ("Ekby kommun", "Ekby kommun", Sector.OPEN_PRESCHOOL, "Familjecentralen Ekby, öppna förskolan"),
    ("Sjöstad kommun", "Sjöstad kommun", Sector.PRESCHOOL, "Förskolan Solrosen"),
    ("Sjöstad kommun", "Sjöstad kommun", Sector.SCHOOL, "Sjöstadsskolan"),
    ("Sjöstad kommun", "Sjöstad kommun", Sector.SOCIAL_SERVICES, "Socialtjänsten Sjöstad"),
]

# (username, first name, last name, profession, [(unit, is_manager)])
PROFESSIONALS: list[tuple[str, str, str, str, list[tuple[str, bool]]]] = [
    ("bvc-sjukskoterska", "Malin", "Ekholm", Profession.BVC_NURSE, [("BVC Ekby centrum", False)]),
    ("bvc-chef", "Birgitta", "Alm", Profession.BVC_NURSE, [("BVC Ekby centrum", True)]),
    (
        "bvc-psykolog",
        "Jonas",
        "Björk",
        Profession.CHILD_HEALTH_PSYCHOLOGIST,
        [("BVC Ekby centrum", False), ("BVC Ekby norra", False)],
    ),
    (
        "specialpedagog",
        "Maria",
        "Lind",
        Profession.SPECIAL_EDUCATOR,
        [("Förskolan Ekorren", False), ("Förskolan Lärkan", False)],
    ),
    ("forskollarare", "Sara", "Holm", Profession.PRESCHOOL_TEACHER, [("Förskolan Ekorren", False)]),
    (
        "oppna-forskolan",
        "Eva",
        "Sund",
        Profession.OPEN_PRESCHOOL_TEACHER,
        [("Familjecentralen Ekby, öppna förskolan", False)],
    ),
    ("larare", "Anders", "Berg", Profession.TEACHER, [("Ekbyskolan", False)]),
    ("rektor", "Helena", "Dahl", Profession.PRINCIPAL, [("Ekbyskolan", True)]),
    ("skolskoterska", "Nadia", "Ek", Profession.SCHOOL_NURSE, [("Elevhälsan Ekbyskolan", False)]),
    (
        "kurator",
        "Peter",
        "Nyström",
        Profession.SCHOOL_COUNSELLOR,
        [("Elevhälsan Ekbyskolan", False)],
    ),
    (
        "familjebehandlare",
        "Amir",
        "Haddad",
        Profession.FAMILY_THERAPIST,
        [("Socialtjänsten Ekby, öppenvård", False)],
    ),
    (
        "socialsekreterare",
        "Ingrid",
        "Falk",
        Profession.SOCIAL_SECRETARY,
        [("Socialtjänsten Ekby, öppenvård", False)],
    ),
    (
        "budgetradgivare",
        "Tomas",
        "Åberg",
        Profession.BUDGET_COUNSELLOR,
        [("Budget- och skuldrådgivningen Ekby", False)],
    ),
    (
        "familjeradgivare",
        "Cecilia",
        "Wik",
        Profession.FAMILY_COUNSELLOR,
        [("Familjerådgivningen Ekby", False)],
    ),
    ("lakare", "Olof", "Sandberg", Profession.PHYSICIAN, [("Hälsocentralen Ekby", False)]),
    (
        "samordnare",
        "Fatima",
        "Warsame",
        Profession.COORDINATOR,
        [("Familjecentralen Ekby, öppna förskolan", False)],
    ),
    ("bvc-sjostad", "Johan", "Lund", Profession.BVC_NURSE, [("BVC Sjöstad", False)]),
]
ADMIN_USERNAME = "regionadmin"

# (team name, working model, municipality, coordinator, [(member, representing unit)])
TEAMS = [
    (
        "BHT Plus Ekby",
        "bht_plus",
        "Ekby kommun",
        "samordnare",
        [
            ("bvc-sjukskoterska", "BVC Ekby centrum"),
            ("bvc-psykolog", "BVC Ekby centrum"),
            ("specialpedagog", "Förskolan Ekorren"),
            ("oppna-forskolan", "Familjecentralen Ekby, öppna förskolan"),
            ("familjebehandlare", "Socialtjänsten Ekby, öppenvård"),
            ("samordnare", "Familjecentralen Ekby, öppna förskolan"),
        ],
    ),
    (
        "HLT Ekbyskolan",
        "hlt",
        "Ekby kommun",
        "samordnare",
        [
            ("rektor", "Ekbyskolan"),
            ("skolskoterska", "Elevhälsan Ekbyskolan"),
            ("kurator", "Elevhälsan Ekbyskolan"),
            ("socialsekreterare", "Socialtjänsten Ekby, öppenvård"),
            ("lakare", "Hälsocentralen Ekby"),
            ("samordnare", "Familjecentralen Ekby, öppna förskolan"),
        ],
    ),
]

CHILD_FIRST_NAMES = [
    "Alva",
    "Elsa",
    "Maja",
    "Wilma",
    "Saga",
    "Ella",
    "Ebba",
    "Alice",
    "Astrid",
    "Freja",
    "Noah",
    "William",
    "Hugo",
    "Liam",
    "Lucas",
    "Oscar",
    "Elias",
    "Adam",
    "Vincent",
    "Leo",
    "Yasmin",
    "Amira",
    "Hamza",
    "Yusuf",
    "Hodan",
    "Abdi",
    "Selam",
    "Dawit",
    "Mariia",
    "Taras",
    "Aino",
    "Eino",
    "Leila",
    "Omid",
    "Nora",
    "Isak",
    "Alma",
    "Selma",
    "Theo",
    "Edvin",
]
ADULT_FIRST_NAMES = [
    "Anna",
    "Emma",
    "Sofia",
    "Johanna",
    "Linnea",
    "Erik",
    "Daniel",
    "Mattias",
    "Fredrik",
    "Jens",
    "Fatuma",
    "Samira",
    "Mohammed",
    "Ahmed",
    "Hawa",
    "Abdullahi",
    "Tesfay",
    "Lemlem",
    "Olena",
    "Andrii",
    "Mikko",
    "Kaisa",
    "Zahra",
    "Reza",
    "Kristina",
    "Marcus",
    "Jenny",
    "Patrik",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Ali",
    "Hassan",
    "Mohamed",
    "Abdi",
    "Tesfaye",
    "Gebremedhin",
    "Kovalenko",
    "Shevchenko",
    "Virtanen",
    "Korhonen",
    "Ahmadi",
    "Hosseini",
    "Lindqvist",
    "Sjöberg",
    "Forsberg",
]
STREETS = ["Björkvägen", "Storgatan", "Skolgatan", "Ängsvägen", "Sjövägen", "Kvarngatan"]
AREAS = {
    "Ekby kommun": [("Ekby centrum", "99130"), ("Ekby norra", "99134"), ("Ängby", "99138")],
    "Sjöstad kommun": [("Sjöstad", "99240"), ("Hamnen", "99244")],
}

INTAKE_UNITS = ["Socialtjänsten Ekby, öppenvård", "Socialtjänsten Sjöstad"]

# (name, kind, provider unit, municipality, screening domains, languages spoken, ages)
SERVICES = [
    (
        "Barnpsykolog",
        "child_psychologist",
        "Barnpsykologmottagningen Sjöland",
        "Ekby kommun",
        ["parental_stress", "child_safety"],
        ["sv", "en"],
        (0, 6),
    ),
    (
        "Logoped för barn",
        "speech_therapist",
        "Logopedmottagningen Sjöland",
        "Ekby kommun",
        [],
        ["sv"],
        (0, 6),
    ),
    (
        "Stödsamtal med familjebehandlare",
        "family_therapy",
        "Socialtjänsten Ekby, öppenvård",
        "Ekby kommun",
        ["parental_stress", "low_mood", "violence", "child_safety"],
        ["sv", "ar", "so"],
        (0, 18),
    ),
    (
        "Budget- och skuldrådgivning",
        "budget_debt",
        "Budget- och skuldrådgivningen Ekby",
        "Ekby kommun",
        ["economic_worry"],
        ["sv", "en", "ar", "ti"],
        (0, 18),
    ),
    (
        "Familjerådgivning",
        "family_counselling",
        "Familjerådgivningen Ekby",
        "Ekby kommun",
        ["parental_stress", "low_mood", "violence"],
        ["sv", "en", "uk"],
        (0, 18),
    ),
    (
        "Öppna förskolan",
        "open_preschool",
        "Familjecentralen Ekby, öppna förskolan",
        "Ekby kommun",
        ["low_mood", "parental_stress"],
        ["sv", "ar", "so", "ti", "prs"],
        (0, 6),
    ),
    (
        "Föräldrastödsgrupp",
        "parenting_support",
        "Familjecentralen Ekby, öppna förskolan",
        "Ekby kommun",
        ["parental_stress", "substance_use"],
        ["sv", "en"],
        (0, 12),
    ),
]

WORRIES = [
    (
        "Barnet sover oroligt och vaknar många gånger per natt; föräldrarna är mycket trötta.",
        "sleep",
    ),
    ("Språket har kommit i gång sent, få ord vid två och ett halvt års ålder.", "language"),
    ("Lämningarna på förskolan är svåra, barnet gråter länge efteråt.", "separation"),
    ("Föräldern berättar om ekonomisk oro och trångboddhet.", "economy"),
    ("Utmanande beteende i barngruppen, barnet slår andra barn.", "behaviour"),
    ("Barnet äter mycket selektivt och föräldrarna är oroliga.", "eating"),
    ("Mycket skärmtid enligt föräldern, barnet har svårt att varva ner.", "screen-time"),
    ("Blöjavvänjningen har inte kommit i gång och föräldrarna vill ha stöd.", "potty-training"),
    ("Hög frånvaro från skolan den senaste månaden.", "school-attendance"),
    ("Föräldern verkar nedstämd och orkar lite med vardagen.", "parenting"),
]
DECISIONS = [
    "Familjen erbjuds stödsamtal med familjebehandlare.",
    "Specialpedagog observerar i barngruppen och återkommer.",
    "BVC-sjuksköterskan tar upp frågan vid nästa besök.",
    "Remiss till logoped när samtycke finns.",
    "Informationsträff om sömn för föräldrar på öppna förskolan.",
    "Kontakt med budget- och skuldrådgivningen erbjuds.",
]
SETTINGS = ["BVC-besök", "I barngruppen", "Vid hämtning", "Öppna förskolan", "Elevhälsomöte"]
