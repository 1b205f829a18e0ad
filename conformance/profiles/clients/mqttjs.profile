# Client profile: MQTT.js (npm package `mqtt`), its command line `mqtt pub` /
# `mqtt sub` (found in PATH: the test puts build/npm/node_modules/.bin there;
# install with `npm install --prefix build/npm mqtt`). Its options are passed
# to mqtt.connect() as they are, so --protocolVersion and --keepalive reach it.
# mqtt-conform --client mqttjs
name      mqttjs
about     "MQTT.js command line (mqtt pub / mqtt sub)"
versions  3.1.1 5.0
version   3.1.1  4
version   5.0    5
pub       mqtt pub -h {host} -p {port} --protocolVersion {version} -i {id} -t {topic} -m {message} -q {qos}
sub       mqtt sub -h {host} -p {port} --protocolVersion {version} -i {id} -t {topic} -q {qos}
opt  *    keep_alive      --keepalive {keep_alive}
opt  *    clean=1
opt  *    clean=0         --no-clean
opt  pub  retain=1        -r
opt  *    username        -u {username}
opt  *    password        -P {password}
opt  *    will_topic      --will-topic {will_topic}
opt  *    will_message    --will-message {will_message}
opt  *    will_qos        --will-qos {will_qos}
opt  *    reconnect=1     --reconnectPeriod 200
cannot *  session_expiry  "the mqtt command line hands its options to publish() as well: a Session Expiry Interval given to it would go into the PUBLISH (a Protocol Error), so the runner does not ask for one"
cannot sub exit           "mqtt sub has no message count: it runs until it is killed, so its exit status says nothing"
cannot pub repeat         "mqtt pub publishes one message per run"
cannot sub format         "mqtt sub prints the payload (and with -v the topic) only: it has no output format for properties"
cannot sub sub_id         "the mqtt command line has no option for a Subscription Identifier"
cannot sub unsub          "the mqtt command line has no option to unsubscribe"
