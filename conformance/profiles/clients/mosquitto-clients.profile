# Client profile: Debian's mosquitto_pub / mosquitto_sub (libmosquitto 2.0).
# mqtt-conform --client mosquitto-clients ; format: README "Testing clients".
name      mosquitto-clients
about     "mosquitto_pub / mosquitto_sub (libmosquitto)"
versions  3.1 3.1.1 5.0
version   3.1    mqttv31
version   3.1.1  mqttv311
version   5.0    mqttv5
pub       mosquitto_pub -h {host} -p {port} -V {version} -i {id} -t {topic} -m {message} -q {qos}
sub       mosquitto_sub -h {host} -p {port} -V {version} -i {id} -t {topic} -q {qos} -C {count}
opt  *    keep_alive      -k {keep_alive}
opt  *    clean=1
opt  *    clean=0         -c
opt  *    session_expiry  -x {session_expiry}
opt  pub  retain=1        -r
opt  *    username        -u {username}
opt  *    password        -P {password}
opt  *    will_topic      --will-topic {will_topic}
opt  *    will_message    --will-payload {will_message}
opt  *    will_qos        --will-qos {will_qos}
opt  *    will_retain=1   --will-retain
opt  pub  repeat          --repeat {repeat}
opt  sub  reconnect=1
cannot pub reconnect=1     "mosquitto_pub exits when the server closes the connection; it does not reconnect (mosquitto_sub does)"
opt  sub  format          -F {format}
opt  sub  sub_id          -D subscribe subscription-identifier {sub_id}
opt  sub  unsub           -U {unsub}
opt  pub  response_topic  -D publish response-topic {response_topic}
opt  pub  content_type    -D publish content-type {content_type}
opt  pub  user_property   -D publish user-property k {user_property}
opt  pub  message_expiry  -D publish message-expiry-interval {message_expiry}
