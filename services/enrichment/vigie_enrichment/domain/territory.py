"""Where a structure is: from its FINESS number to its département, region and ARS."""

from dataclasses import dataclass

from vigie_contracts.finess import parse_finess
from vigie_contracts.territory import DEPARTEMENTS, Departement, Region


@dataclass(frozen=True, slots=True)
class Location:
    departement: Departement

    @property
    def region(self) -> Region:
        return self.departement.region


class UnknownTerritory(LookupError):
    pass


def locate(finess: str) -> Location:
    """Where a structure is, from the FINESS number of a declaration Vigie accepted."""
    code = parse_finess(finess, admitting=False).departement
    try:
        return Location(DEPARTEMENTS[code])
    except KeyError:
        raise UnknownTerritory(f"FINESS {finess}: département {code} is not in the register") from None
