"""From anonymous to logged in: ID-porten relying party, fødselsnummer rules, the EPJ link."""
