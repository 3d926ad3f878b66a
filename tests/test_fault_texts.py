"""What the OLED, `status` and `doctor` say when Mews refuses the tokens names the keys to check for the
generation in use (today's access and client tokens; the seed's connector token)."""

from agent.mews.errors import TokenRejected
from agent.runtime import health as hs
from agent.runtime.faults import classify


def test_a_refused_token_today_names_the_access_and_client_tokens():
    fault = classify(TokenRejected(f"{TokenRejected.CURRENT} (Invalid AccessToken)", 401))
    assert fault.connection == hs.TOKEN_REJECTED
    assert "mews.access_token" in fault.message and "connector_token" not in fault.message


def test_a_refused_connector_token_in_the_seed_generation_names_it():
    fault = classify(TokenRejected(f"{TokenRejected.DEFAULT} (Invalid ConnectorToken)", 401))
    assert "mews.connector_token" in fault.message
