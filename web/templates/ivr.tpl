% rebase('base.tpl')
<h1>{{_('IVR: call flows')}}</h1>
<section class="card" id="inbound-routes" aria-labelledby="h-inbound">
<h2 id="h-inbound">{{_('Inbound routes')}}</h2>
<p class="help" id="inbound-help">{{_('Every call from outside comes in through one of these routes. The box tries them from the top: first the routes straight to an extension or a ring group, then the routes into the call flows; within each, the lowest priority first, and the route naming a number wins over a catch-all.')}}</p>
% if routes_error:
<p class="error" role="alert" id="routes-error">{{routes_error}}</p>
% end
<form method="post" action="/ivr/routes">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  % rows = list(inbound) + [{}]
  <input type="hidden" name="route-count" value="{{len(rows)}}">
  <div class="scroll">
  <table aria-describedby="inbound-help">
    <thead><tr><th scope="col">{{_('Order')}}</th><th scope="col">{{_('Called number')}}</th><th scope="col">{{_('Caller (optional)')}}</th><th scope="col">{{_('Destination')}}</th><th scope="col">{{_('Priority')}}</th><th scope="col">{{_('Name')}}</th><th scope="col">{{_('Remove')}}</th></tr></thead>
    <tbody>
    % for i, r in enumerate(rows):
    % bad = bad_rows.get(i)
    <tr data-kind="{{r.get('kind', 'new')}}"><td>{{_('straight to a phone') if r.get('kind') == 'direct' else (_('into the call flows') if r.get('kind') == 'flow' else _('new route'))}}</td>
        <td><input name="route-did-{{i}}" value="{{r.get('did', '')}}" aria-label="{{_('Called number')}}" placeholder="{{_('any')}}"></td>
        <td><input name="route-caller-{{i}}" value="{{r.get('caller', '')}}" aria-label="{{_('Caller (optional)')}}" placeholder="{{_('any')}}"></td>
        <td><input name="route-destination-{{i}}" value="{{r.get('destination', '')}}" aria-label="{{_('Destination')}}"{{!' aria-invalid="true"' if bad == 'destination' else ''}}></td>
        <td><input name="route-priority-{{i}}" value="{{r.get('priority', '')}}" inputmode="numeric" aria-label="{{_('Priority')}}"{{!' aria-invalid="true"' if bad == 'priority' else ''}}></td>
        <td><input name="route-name-{{i}}" value="{{r.get('name') or ''}}" aria-label="{{_('Name')}}"></td>
        <td><input type="checkbox" name="route-remove-{{i}}" aria-label="{{_('Remove')}}"></td></tr>
    % end
    </tbody>
  </table>
  </div>
  <p class="help">{{_('A destination is a kind and a name: extension:1001 or ring_group:sales go straight there; flow:main_menu goes into the call flows at that node (the nodes are drawn below). The last row adds a route.')}}</p>
  <button type="submit">{{_('Save inbound routes')}}</button>
</form>
</section>
% if flows is None:
<p class="notice">{{_('There are no call flows yet. The')}} <a href="/wizard">{{_('set-up wizard')}}</a> {{_('makes the first ones from a template.')}}</p>
% else:
<p class="help">{{_('Version {version}, language {language}.', version=flows.get('version'), language=flows.get('language'))}} {{_('Each save sends the whole set to the core, which checks it before any call uses it.')}}</p>
% include('ivr_tree.tpl')
<section class="card narrow" aria-labelledby="h-new-node">
  <h2 id="h-new-node">{{_('Add a node')}}</h2>
  <form method="post" action="/ivr/nodes">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <label for="new-id">{{_('Id')}}</label>
    <input id="new-id" name="id" required pattern="[A-Za-z0-9_\-]{1,64}" aria-describedby="new-id-help">
    <p class="help" id="new-id-help">{{_("1-64 letters, digits, '-' or '_'. Other nodes and routes name it by this.")}}</p>
    <label for="new-kind">{{_('Kind')}}</label>
    <select id="new-kind" name="kind">
      % for k in kinds:
      <option value="{{k}}">{{_(k.replace('_', ' '))}}</option>
      % end
    </select>
    <button type="submit">{{_('Add node')}}</button>
  </form>
</section>
% end
