% rebase('base.tpl')
% headings = {'calls': _('Calls in progress'), 'workers': _('Engine workers'), 'recent': _('Recent calls')}
% empty = {'calls': _('No call in progress.'), 'workers': _('No engine worker is running.'), 'recent': _('No call yet.')}
% source = {'calls': 'engine', 'workers': 'engine', 'recent': 'records'}
<h1>{{_('Now')}}</h1>
<p class="help" id="now-status" role="status">{{_('Shown as of page load.')}}</p>
<p class="sr-only" id="now-announce" aria-live="polite"></p>
%# The board is a set of blocks filled from /now.json by name; the wallboard's
%# queues, agents and service level join as further blocks of the same kind.
<div class="board" id="board" data-events="/events" data-data="/now.json" data-poll="{{poll_s}}" data-refresh-on="call_record engine" data-now="{{blocks['now']}}">
  <section class="tiles" aria-label="{{_('Summary')}}">
    % for key, label in (('active', _('Calls now')), ('talking', _('Talking')), ('waiting', _('Ringing or routing')), ('workers', _('Engine workers up'))):
    <div class="tile"><h2 id="t-{{key}}">{{label}}</h2><p class="big" data-summary="{{key}}" aria-labelledby="t-{{key}}">{{blocks['summary'][key]}}</p></div>
    % end
  </section>
  % for name in ('calls', 'workers', 'recent'):
  % rows = blocks[name]
  <section class="block block-{{name}}" aria-labelledby="h-{{name}}">
    <h2 id="h-{{name}}">{{headings[name]}}</h2>
    % if not blocks['available'][source[name]]:
    <p class="notice" data-unavailable="{{name}}">{{not_yet.format(what='engine status' if source[name] == 'engine' else 'call records')}}</p>
    % end
    <div class="scroll">
    <table class="records" data-block="{{name}}" data-columns="{{' '.join(c for c, x in columns[name])}}" aria-labelledby="h-{{name}}">
      <thead><tr>
      % for key, label in columns[name]:
        <th scope="col">{{_(label)}}</th>
      % end
      </tr></thead>
      <tbody>
      % for row in rows:
      <tr>
        % for key, label in columns[name]:
        % if key == 'since':
        <td data-label="{{_(label)}}" data-since="{{row['since']}}">{{row['since_text']}}</td>
        % elif key + '_class' in row:
        <td data-label="{{_(label)}}"><span class="badge {{row[key + '_class']}}">{{row[key]}}</span></td>
        % else:
        <td data-label="{{_(label)}}">{{row[key]}}</td>
        % end
        % end
      </tr>
      % end
      </tbody>
    </table>
    </div>
    <p class="help" data-empty="{{name}}" {{!'hidden' if rows else ''}}>{{empty[name]}}</p>
  </section>
  % end
  <p><a href="/calls">{{_('All call records')}}</a></p>
</div>
