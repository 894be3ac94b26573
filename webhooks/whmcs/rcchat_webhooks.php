<?php
/**
 * RC-CHAT webhooks for WHMCS.
 *
 * Install: copy this file to <whmcs>/includes/hooks/rcchat_webhooks.php.
 *
 * It tells the RC-CHAT sidecar (the Caddy module "whmcs_auth") about the
 * WHMCS events that change who may use RC-CHAT, so a suspension or a
 * termination blocks the help desk at once instead of at the next periodic
 * sweep:
 *
 *   AfterModuleCreate, AfterModuleSuspend, AfterModuleUnsuspend,
 *   AfterModuleTerminate, AfterModuleChangePackage, InvoicePaid
 *
 * Each event is POSTed as JSON, signed with HMAC-SHA256, to
 * /api/webhooks/whmcs. Only ids are sent (serviceid, userid, pid,
 * invoiceid): never the service password or any other module parameter.
 * The sidecar asks the WHMCS API for the details itself.
 *
 * A failed delivery is written to the Activity Log and never interrupts
 * WHMCS (the hook runs inside the admin's or the cron's request). Nothing is
 * retried here: the sidecar's periodic sweep repairs any missed event.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/*
 * Configuration. Either define these constants earlier (for example at the
 * end of WHMCS's configuration.php) or set them as environment variables of
 * the PHP process; a constant wins over the environment.
 *
 *   RCCHAT_WEBHOOK_URL     the receiver, e.g.
 *                          https://chat.example.com/api/webhooks/whmcs
 *   RCCHAT_WEBHOOK_SECRET  the same value as `webhook_secret` in the
 *                          whmcs_auth block of the Caddyfile (or the
 *                          WHMCS_WEBHOOK_SECRET environment variable there)
 *   RCCHAT_WEBHOOK_TIMEOUT seconds to wait for the receiver (default 3):
 *                          WHMCS waits this long at most when it is down
 */
if (!defined('RCCHAT_WEBHOOK_URL')) {
    define('RCCHAT_WEBHOOK_URL', (string) getenv('RCCHAT_WEBHOOK_URL'));
}
if (!defined('RCCHAT_WEBHOOK_SECRET')) {
    define('RCCHAT_WEBHOOK_SECRET', (string) getenv('RCCHAT_WEBHOOK_SECRET'));
}
if (!defined('RCCHAT_WEBHOOK_TIMEOUT')) {
    $rcchatTimeout = (int) getenv('RCCHAT_WEBHOOK_TIMEOUT');
    define('RCCHAT_WEBHOOK_TIMEOUT', $rcchatTimeout > 0 ? $rcchatTimeout : 3);
    unset($rcchatTimeout);
}

if (!function_exists('rcchat_webhook_log')) {
    /**
     * Writes to the WHMCS Activity Log; falls back to PHP's error log so a
     * failure is never silent, and never throws.
     */
    function rcchat_webhook_log($message)
    {
        try {
            if (function_exists('logActivity')) {
                logActivity('RC-CHAT webhook: ' . $message);
                return;
            }
        } catch (\Throwable $e) {
            // fall through to error_log
        }
        error_log('RC-CHAT webhook: ' . $message);
    }

    /**
     * An id as an integer, or null when absent or not a plain number, so
     * the JSON carries numbers and nothing else from the parameters.
     */
    function rcchat_webhook_id($value)
    {
        if (is_int($value)) {
            return $value > 0 ? $value : null;
        }
        if (is_string($value) && ctype_digit(trim($value))) {
            $n = (int) trim($value);
            return $n > 0 ? $n : null;
        }
        if (is_float($value) && $value > 0 && floor($value) == $value) {
            return (int) $value;
        }
        return null;
    }

    /**
     * Builds the event body from a whitelist of ids. $vars['params'] holds
     * the full module parameters, including the plaintext service password
     * and the server's credentials: none of that may leave WHMCS.
     */
    function rcchat_webhook_payload($event, $vars)
    {
        $vars = is_array($vars) ? $vars : array();
        $p = (isset($vars['params']) && is_array($vars['params'])) ? $vars['params'] : array();
        $userid = isset($p['userid']) ? $p['userid'] : null;
        if ($userid === null && isset($p['clientsdetails']['userid'])) {
            $userid = $p['clientsdetails']['userid'];
        }
        return array(
            'id' => bin2hex(random_bytes(16)),
            'event' => $event,
            'occurred_at' => gmdate('Y-m-d\TH:i:s\Z'),
            'params' => array(
                'serviceid' => rcchat_webhook_id(isset($p['serviceid']) ? $p['serviceid'] : null),
                'userid' => rcchat_webhook_id($userid),
                'pid' => rcchat_webhook_id(isset($p['pid']) ? $p['pid'] : null),
                'invoiceid' => rcchat_webhook_id(isset($vars['invoiceid']) ? $vars['invoiceid'] : null),
            ),
        );
    }

    /**
     * POSTs one signed body; returns array(http status or 0, error text).
     * Uses cURL (always present on WHMCS) and falls back to PHP streams.
     */
    function rcchat_webhook_post($url, $body, $headers, $timeout)
    {
        if (function_exists('curl_init')) {
            $ch = curl_init($url);
            curl_setopt_array($ch, array(
                CURLOPT_POST => true,
                CURLOPT_POSTFIELDS => $body,
                CURLOPT_HTTPHEADER => $headers,
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_FOLLOWLOCATION => false,
                CURLOPT_CONNECTTIMEOUT => $timeout,
                CURLOPT_TIMEOUT => $timeout,
            ));
            $answer = curl_exec($ch);
            $status = (int) curl_getinfo($ch, CURLINFO_HTTP_CODE);
            $error = $answer === false ? curl_error($ch) : '';
            if (PHP_VERSION_ID < 80000) {
                curl_close($ch); // a no-op, deprecated in PHP 8.5, since PHP 8.0
            }
            return array($status, $error !== '' ? $error : (string) $answer);
        }
        $context = stream_context_create(array('http' => array(
            'method' => 'POST',
            'header' => implode("\r\n", $headers),
            'content' => $body,
            'timeout' => $timeout,
            'ignore_errors' => true,
            'follow_location' => 0,
        )));
        $answer = @file_get_contents($url, false, $context);
        $status = 0;
        if (isset($http_response_header[0]) && preg_match('#^HTTP/\S+\s+(\d{3})#', $http_response_header[0], $m)) {
            $status = (int) $m[1];
        }
        if ($answer === false) {
            $last = error_get_last();
            return array($status, $last ? $last['message'] : 'request failed');
        }
        return array($status, (string) $answer);
    }

    /**
     * Sends one event. Never throws: a hook that throws would break the
     * WHMCS action (a suspension, an invoice payment) that triggered it.
     */
    function rcchat_webhook_send($event, $vars)
    {
        try {
            $url = trim((string) RCCHAT_WEBHOOK_URL);
            $secret = (string) RCCHAT_WEBHOOK_SECRET;
            if ($url === '' || $secret === '') {
                rcchat_webhook_log($event . ' not sent: set RCCHAT_WEBHOOK_URL and RCCHAT_WEBHOOK_SECRET');
                return;
            }
            $payload = rcchat_webhook_payload($event, $vars);
            $body = json_encode($payload, JSON_UNESCAPED_SLASHES);
            if ($body === false) {
                rcchat_webhook_log($event . ' not sent: cannot encode the body');
                return;
            }
            $timestamp = (string) time();
            $headers = array(
                'Content-Type: application/json',
                'User-Agent: rcchat-whmcs-hook/1',
                'X-Whmcs-Timestamp: ' . $timestamp,
                'X-Whmcs-Signature: sha256=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret),
            );
            list($status, $answer) = rcchat_webhook_post($url, $body, $headers, (int) RCCHAT_WEBHOOK_TIMEOUT);
            if ($status !== 200) {
                $detail = substr(preg_replace('/\s+/', ' ', (string) $answer), 0, 200);
                rcchat_webhook_log(sprintf('%s %s delivery failed (HTTP %d): %s', $event, $payload['id'], $status, $detail));
            }
        } catch (\Throwable $e) {
            rcchat_webhook_log($event . ' delivery failed: ' . $e->getMessage());
        }
    }
}

foreach (array(
    'AfterModuleCreate',
    'AfterModuleSuspend',
    'AfterModuleUnsuspend',
    'AfterModuleTerminate',
    'AfterModuleChangePackage',
    'InvoicePaid',
) as $rcchatEvent) {
    add_hook($rcchatEvent, 1, function ($vars) use ($rcchatEvent) {
        rcchat_webhook_send($rcchatEvent, $vars);
    });
}
unset($rcchatEvent);
