"""An independent FHIR client (fhirpy) drives the server."""
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from fhirvalidation import assert_valid


def test_fhirpy_search_create_update_delete(client):
    fhir = SyncFHIRClient(client.base)
    garcias = fhir.resources("Patient").search(family="garcia").limit(100).fetch()
    assert {"pat-0001", "pat-0002", "pat-0003"} <= {p.id for p in garcias}
    for patient in garcias:
        assert_valid(patient.serialize())
    patient = fhir.resource("Patient", name=[{"family": "Fhirpy", "given": ["Test"]}], gender="female", birthDate="1999-09-09")
    patient.save()
    assert patient.id and patient.meta["versionId"] == "1"
    patient["birthDate"] = "1999-09-10"
    patient.save()
    fetched = fhir.reference("Patient", patient.id).to_resource()
    assert fetched["birthDate"] == "1999-09-10" and fetched.meta["versionId"] == "2"
    assert fhir.resources("Patient").search(family="fhirpy").count() == 1
    first = fhir.resources("Patient").search(birthdate__ge="2010-01-01").sort("birthdate").first()
    assert first["birthDate"] >= "2010-01-01"
    fetched.delete()
    with pytest.raises(ResourceNotFound):
        fhir.reference("Patient", "does-not-exist").to_resource()


def test_fhirpy_fetch_all_follows_next_links(client):
    fhir = SyncFHIRClient(client.base)
    everyone = fhir.resources("Patient").limit(40).fetch_all()
    assert len(everyone) == 320 and len({p.id for p in everyone}) == 320
