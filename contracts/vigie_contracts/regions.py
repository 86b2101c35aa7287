"""France's 18 regions and their regional health agency (ARS): the universe every service
agrees on when it routes, checks a directory, or draws a map. Codes are INSEE's."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    ars_code: str
    ars_name: str
    overseas: bool = False


REGIONS: dict[str, Region] = {
    region.code: region
    for region in (
        Region(
            "01", "Guadeloupe", "ars-gua", "ARS Guadeloupe, Saint-Barthélemy et Saint-Martin", True
        ),
        Region("02", "Martinique", "ars-mar", "ARS Martinique", True),
        Region("03", "Guyane", "ars-guy", "ARS Guyane", True),
        Region("04", "La Réunion", "ars-reu", "ARS La Réunion", True),
        Region("06", "Mayotte", "ars-may", "ARS Mayotte", True),
        Region("11", "Île-de-France", "ars-idf", "ARS Île-de-France"),
        Region("24", "Centre-Val de Loire", "ars-cvl", "ARS Centre-Val de Loire"),
        Region("27", "Bourgogne-Franche-Comté", "ars-bfc", "ARS Bourgogne-Franche-Comté"),
        Region("28", "Normandie", "ars-nor", "ARS Normandie"),
        Region("32", "Hauts-de-France", "ars-hdf", "ARS Hauts-de-France"),
        Region("44", "Grand Est", "ars-ge", "ARS Grand Est"),
        Region("52", "Pays de la Loire", "ars-pdl", "ARS Pays de la Loire"),
        Region("53", "Bretagne", "ars-bre", "ARS Bretagne"),
        Region("75", "Nouvelle-Aquitaine", "ars-naq", "ARS Nouvelle-Aquitaine"),
        Region("76", "Occitanie", "ars-occ", "ARS Occitanie"),
        Region("84", "Auvergne-Rhône-Alpes", "ars-ara", "ARS Auvergne-Rhône-Alpes"),
        Region("93", "Provence-Alpes-Côte d'Azur", "ars-paca", "ARS Provence-Alpes-Côte d'Azur"),
        Region("94", "Corse", "ars-cor", "ARS Corse"),
    )
}

ARS_CODES = frozenset(region.ars_code for region in REGIONS.values())
