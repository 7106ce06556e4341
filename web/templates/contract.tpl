% rebase('base.tpl')
% labels = {'answer_pct': _('Answered within the time (%)'), 'within_s': _('Within (seconds)'), 'max_abandon_pct': _('Most abandoned (%)'), 'min_coverage_pct': _('Least staffed hours (%)'), 'wage_per_hour': _('Cost of one paid hour of an agent'), 'recruiting_per_hire': _('Recruiting, per hire'), 'training_per_hire': _('Training, per hire'), 'annual_turnover_pct': _('Staff leaving per year (%)'), 'agents': _('Agents'), 'overhead_per_month': _('Other costs per month'), 'price_per_hour': _('Price per hour'), 'price_per_call': _('Price per handled call'), 'base_per_month': _('Base per month'), 'commission_per_call': _('Commission per call'), 'minimum_per_month': _('Minimum per month')}
% model_names = {'per_hour': _('per hour'), 'per_handled_call': _('per handled call'), 'base_plus_commission': _('base plus commission')}
% def field_error(key):
%   if key in errors:
<p class="field-error" id="{{key}}-error" role="alert">{{errors[key]}}</p>
%   end
% end
<h1>{{_("Contract")}}</h1>
<p>{{_("The service level the contract promises and what each handled call costs, worked out by the box from its own month. The figures you enter here are not stored on the box: they stay in this form and in its address, so bookmark the page to keep them.")}}</p>
<form method="get" action="/contract" class="card contract">
  <label for="month">{{_("Month")}}</label>
  <input id="month" name="month" type="month" value="{{month}}" required {{!invalid('month')}}>
  % field_error('month')
  <fieldset>
    <legend>{{_("Service level targets")}}</legend>
    <p class="help">{{_("One row per queue; leave the queue empty for all queues together.")}}</p>
    <input type="hidden" name="t-count" value="{{target_rows}}">
    <div class="scroll"><table>
      <thead><tr><th scope="col">{{_("Queue")}}</th>
      % for f in target_fields:
      <th scope="col">{{labels[f]}}</th>
      % end
      </tr></thead>
      <tbody>
      % for i in range(target_rows):
      <tr><td><input name="t-queue-{{i}}" value="{{form.get('t-queue-' + str(i))}}" aria-label="{{_('Queue')}}" {{!invalid('t-queue-' + str(i))}}>
      % field_error('t-queue-' + str(i))
      </td>
      % for f in target_fields:
      % key = 't-' + f + '-' + str(i)
      <td><input name="{{key}}" inputmode="decimal" value="{{form.get(key)}}" aria-label="{{labels[f]}}" {{!invalid(key)}}>
      % field_error(key)
      </td>
      % end
      </tr>
      % end
      </tbody>
    </table></div>
  </fieldset>
  <fieldset>
    <legend>{{_("Staff costs (for the cost per call)")}}</legend>
    <p class="help">{{_("Leave these empty for the service level report alone.")}}</p>
    % for f in cost_fields:
    % key = 'c-' + f
    <label for="{{key}}">{{labels[f]}}</label>
    <input id="{{key}}" name="{{key}}" inputmode="decimal" value="{{form.get(key)}}" {{!invalid(key)}}>
    % field_error(key)
    % end
    <label for="c-currency">{{_("Currency")}}</label>
    <input id="c-currency" name="c-currency" value="{{form.get('c-currency')}}" placeholder="PLN" maxlength="3" {{!invalid('c-currency')}}>
    % field_error('c-currency')
  </fieldset>
  <fieldset>
    <legend>{{_("Outsourcing offers to compare")}}</legend>
    <input type="hidden" name="o-count" value="{{offer_rows}}">
    <div class="scroll"><table>
      <thead><tr><th scope="col">{{_("Name")}}</th><th scope="col">{{_("Priced")}}</th>
      % for f in offer_fields:
      <th scope="col">{{labels[f]}}</th>
      % end
      </tr></thead>
      <tbody>
      % for i in range(offer_rows):
      <tr><td><input name="o-name-{{i}}" value="{{form.get('o-name-' + str(i))}}" aria-label="{{_('Name')}}" {{!invalid('o-name-' + str(i))}}>
      % field_error('o-name-' + str(i))
      </td>
        <td><select name="o-model-{{i}}" aria-label="{{_('Priced')}}" {{!invalid('o-model-' + str(i))}}>
          % for m in models:
          <option value="{{m}}" {{!'selected' if form.get('o-model-' + str(i)) == m else ''}}>{{model_names[m]}}</option>
          % end
        </select>{{field_error('o-model-' + str(i)) or ''}}</td>
      % for f in offer_fields:
      % key = 'o-' + f + '-' + str(i)
      <td><input name="{{key}}" inputmode="decimal" value="{{form.get(key)}}" aria-label="{{labels[f]}}" {{!invalid(key)}}>
      % field_error(key)
      </td>
      % end
      </tr>
      % end
      </tbody>
    </table></div>
  </fieldset>
  <button type="submit">{{_("Make the reports")}}</button>
</form>
% titles = {'sla': _('Service level report'), 'cost': _('Cost per handled call')}
% for kind in reports:
<section aria-labelledby="{{kind}}-title" class="contract-report">
  <h2 id="{{kind}}-title">{{titles[kind]}}</h2>
  <p><a href="/contract/{{kind}}/print?{{query}}" target="_blank" rel="noopener">{{_("Open the printable page")}}</a>
   · <a href="/contract/{{kind}}.csv?{{query}}" download>{{_("Download as CSV")}}</a></p>
  <iframe class="report-frame" src="/contract/{{kind}}/print?{{query}}" title="{{titles[kind]}}"></iframe>
</section>
% end
