"""The kit reads the broker's settings with nameko's own keys, so its connections (the
relay, retries, dead-letter tools, health checks, the CLI) reach the broker the same way
nameko's consumers do: TLS, failover URLs, login method and heartbeat included."""

from services.common.amqp import Broker, as_broker


def test_settings_come_from_nameko_keys():
    ssl = {"ca_certs": "/etc/samspil/ca.pem", "cert_reqs": 2}
    broker = Broker.from_config({
        "AMQP_URI": "amqps://intake:pw@rabbitmq:5671/samspil",
        "AMQP_SSL": ssl, "LOGIN_METHOD": "PLAIN", "HEARTBEAT": "10",
    })
    assert broker == Broker("amqps://intake:pw@rabbitmq:5671/samspil", ssl, "PLAIN", 10.0)
    assert broker.nameko_config() == {
        "AMQP_URI": "amqps://intake:pw@rabbitmq:5671/samspil", "AMQP_SSL": ssl,
        "LOGIN_METHOD": "PLAIN", "HEARTBEAT": 10.0}


def test_plain_config_has_no_tls_and_nameko_default_heartbeat():
    broker = Broker.from_config({"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"})
    assert (broker.ssl, broker.login_method, broker.heartbeat) == (None, None, None)
    assert broker.nameko_config() == {"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"}
    assert as_broker("amqp://x/") == Broker("amqp://x/")
    assert as_broker(broker) is broker


def test_connection_carries_tls_and_every_failover_url():
    broker = Broker("amqp://guest:guest@127.0.0.1:5001/;amqp://guest:guest@127.0.0.1:5002/",
                    ssl={"cert_reqs": 2})
    conn = broker.connection(connect_timeout=3)
    assert conn.ssl == {"cert_reqs": 2}
    assert [c.port for c in [conn, *[conn.clone(hostname=u) for u in conn.alt[1:]]]] == [
        5001, 5002]

