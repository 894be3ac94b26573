<?php
// Test harness standing in for WHMCS: add_hook records the callbacks,
// logActivity prints, and each call in CALLS_FILE (JSON) invokes the
// callbacks of its hook with realistic $vars. Used by the Go tests only.
define('WHMCS', true);
$GLOBALS['harness_hooks'] = array();
function add_hook($name, $priority, $fn) { $GLOBALS['harness_hooks'][$name][] = $fn; }
function logActivity($message, $userId = 0) { fwrite(STDOUT, "logActivity: " . $message . "\n"); }
require getenv('HOOK_FILE');
echo "registered: " . implode(',', array_keys($GLOBALS['harness_hooks'])) . "\n";
$calls = json_decode(file_get_contents(getenv('CALLS_FILE')), true);
foreach ($calls as $call) {
    $vars = $call['vars'];
    if ($call['hook'] === 'InvoicePaid') {
        // WHMCS passes the invoice model too; it is not JSON material.
        $vars['invoice'] = new ArrayObject(array('total' => '10.00', 'secret' => 'SECRET-PW'));
    }
    $hooks = isset($GLOBALS['harness_hooks'][$call['hook']]) ? $GLOBALS['harness_hooks'][$call['hook']] : array();
    foreach ($hooks as $fn) {
        $fn($vars);
    }
    echo "called: " . $call['hook'] . "\n";
}
