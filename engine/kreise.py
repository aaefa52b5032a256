"""The Kreise and kreisfreie Städte of North Rhine-Westphalia: the areas a Welcome Center serves
and the Kreis of a firm. A fixed list (31 Kreise including the StädteRegion Aachen, 22 kreisfreie
Städte); only these names are stored."""

KREISE = (
    "StädteRegion Aachen", "Kreis Borken", "Kreis Coesfeld", "Kreis Düren", "Ennepe-Ruhr-Kreis",
    "Kreis Euskirchen", "Kreis Gütersloh", "Kreis Heinsberg", "Kreis Herford", "Hochsauerlandkreis",
    "Kreis Höxter", "Kreis Kleve", "Kreis Lippe", "Märkischer Kreis", "Kreis Mettmann",
    "Kreis Minden-Lübbecke", "Oberbergischer Kreis", "Kreis Olpe", "Kreis Paderborn",
    "Kreis Recklinghausen", "Rhein-Erft-Kreis", "Rhein-Kreis Neuss", "Rheinisch-Bergischer Kreis",
    "Rhein-Sieg-Kreis", "Kreis Siegen-Wittgenstein", "Kreis Soest", "Kreis Steinfurt", "Kreis Unna",
    "Kreis Viersen", "Kreis Warendorf", "Kreis Wesel",
)

KREISFREIE_STAEDTE = (
    "Bielefeld", "Bochum", "Bonn", "Bottrop", "Dortmund", "Duisburg", "Düsseldorf", "Essen",
    "Gelsenkirchen", "Hagen", "Hamm", "Herne", "Köln", "Krefeld", "Leverkusen", "Mönchengladbach",
    "Mülheim an der Ruhr", "Münster", "Oberhausen", "Remscheid", "Solingen", "Wuppertal",
)

ALL = tuple(sorted(KREISE + KREISFREIE_STAEDTE, key=lambda name: name.removeprefix("Kreis ").casefold()))
_BY_FOLDED = {name.casefold(): name for name in ALL}


def canonical(name: str) -> str | None:
    """The list's spelling of `name` (case and surrounding blanks ignored), or None if it is no NRW Kreis."""
    return _BY_FOLDED.get((name or "").strip().casefold())
